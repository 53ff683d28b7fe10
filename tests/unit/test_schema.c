/*
 * test_schema.c: the YAML schema engine (src/app/config/schema_*.c): files
 * and their errors, tags, !secret and secrets.yaml, values never shown
 * when secret, and the tables of accepted keys driven directly on a small
 * struct of their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/schema.h"
#include "config_fixture.h"

/* ------------------------------------------------------------------ */
/* The engine on its own                                               */
/* ------------------------------------------------------------------ */

typedef struct demo {
    char *name;
    char *mode;
} demo;

static const char *const demo_modes[] = {"fast", "slow", NULL};
static const schema_key demo_inner[] = {KEY("n", K_INT), KEND};
static const schema_key demo_keys[] = {
    KSTR_AT("name", offsetof(demo, name)),
    KCHOICE_AT("mode", demo_modes, offsetof(demo, mode)),
    KEY("flag", K_BOOL),
    KEY("wait", K_DURATION),
    KSUB("inner", demo_inner),
    KEY("map", K_ANY_MAP),
    KEY("list", K_ANY_LIST),
    KEY("any", K_ANY),
    KEY("mine", K_CUSTOM),
    KMOVED("old", " (now 'name')"),
    KEND};

/* Apply demo_keys to the file's root under the path "demo"; the message
 * (without the file's name) in tail. */
static int demo_apply(const char *yaml, demo *d, char *tail, size_t len)
{
    schema_ctx c;
    yaml_document_t doc;
    memset(&c, 0, sizeof c);
    memset(d, 0, sizeof *d);
    write_text(cfg_path, yaml);
    c.file = cfg_path;
    c.doc = &doc;
    c.target = d;
    c.err = cfg_err;
    c.errlen = sizeof cfg_err;
    cfg_err[0] = '\0';
    assert_int_equal(schema_load(&c, cfg_path, &doc, "demo file"), 0);
    int rc = schema_apply(&c, yaml_document_get_root_node(&doc), "demo", demo_keys);
    yaml_document_delete(&doc);
    schema_release(&c);
    assert_int_equal(rc ? EOTA_EINVAL : 0, c.status);
    snprintf(tail, len, "%s", cfg_err + (rc ? strlen(cfg_path) : 0));
    return rc;
}

static void demo_free(demo *d)
{
    free(d->name);
    free(d->mode);
}

static void expect_demo_error(const char *yaml, const char *want)
{
    demo d;
    char tail[1024];
    assert_int_equal(demo_apply(yaml, &d, tail, sizeof tail), -1);
    assert_string_equal(tail, want);
    demo_free(&d);
}

static void test_schema_keys(void **state)
{
    (void)state;
    demo d;
    char tail[1024];
    assert_int_equal(demo_apply("name: x\nmode: slow\nflag: on\nwait: 2s\ninner: {n: 3}\n"
                                "map:\nlist: [1]\nany: [[{}]]\nmine: !!int 1\n",
                                &d, tail, sizeof tail),
                     0);
    assert_string_equal(d.name, "x");
    assert_string_equal(d.mode, "slow");
    demo_free(&d);

    expect_demo_error("old: x\n", ":1:1: key 'demo.old': unknown key (now 'name'); accepted "
                                  "keys: name, mode, flag, wait, inner, map, list, any, mine");
    expect_demo_error("nmae: x\n", ":1:1: key 'demo.nmae': unknown key; accepted keys: name, "
                                   "mode, flag, wait, inner, map, list, any, mine");
    expect_demo_error("name: x\nname: y\n",
                      ":2:1: key 'demo.name': duplicate key (first given at line 1)");
    expect_demo_error("inner:\n  n: x\n",
                      ":2:6: key 'demo.inner.n': expected an integer from 0 to 2147483647, "
                      "got 'x'");
    expect_demo_error("mode: quick\n",
                      ":1:7: key 'demo.mode': expected one of fast, slow, got 'quick'");
    expect_demo_error("list: {a: 1}\n", ":1:7: key 'demo.list': expected a list, got a mapping");
    expect_demo_error("map: [1]\n", ":1:6: key 'demo.map': expected a mapping, got a list");
    expect_demo_error("wait: 1\n", ":1:7: key 'demo.wait': expected a time period such as "
                                   "'30s', '5min' or '100ms', got '1' (a bare number has no "
                                   "unit; did you mean '1s'?)");
    expect_demo_error("[1, 2]\n", ":1:1: key 'demo': expected a mapping, got a list");
}

/* Values are quoted shortened and printable; key paths too. */
static void test_schema_show_and_paths(void **state)
{
    (void)state;
    char sh[SCHEMA_SHOW_LEN], p[SCHEMA_PATH_LEN], long_text[200];
    assert_string_equal(schema_show(sh, "abc", false), "'abc'");
    assert_string_equal(schema_show(sh, "abc", true), "<hidden>");
    assert_string_equal(schema_show(sh, "a\tb\x7f", false), "'a?b?'");
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    schema_show(sh, long_text, false);
    assert_int_equal(strlen(sh), SCHEMA_SHOW_LEN - 2);
    assert_string_equal(sh + strlen(sh) - 4, "...'");
    assert_string_equal(schema_path_key(p, "ota[0]", "on\x1b"), "ota[0].on?");
    assert_string_equal(schema_path_key(p, "", "esphome"), "esphome");
    assert_string_equal(schema_path_index(p, "ota", 12), "ota[12]");
    schema_path_key(p, long_text, "k");
    assert_int_equal(strlen(p), SCHEMA_PATH_LEN - 1);
}

/* ------------------------------------------------------------------ */
/* Files, tags and secrets, through the config reader                  */
/* ------------------------------------------------------------------ */

static void test_secret(void **state)
{
    (void)state;
    eota_config cfg;
    write_secrets("wifi_pw: abc\nota_pw: \"s3cr3t!\"\nweb_pw: w3b\nuser: admin\n");
    load_ok(BASE "ota:\n"
                 "  - platform: esphome\n"
                 "    password: !secret ota_pw\n"
                 "web_server:\n"
                 "  auth:\n"
                 "    username: !secret user\n"
                 "    password: !secret web_pw\n",
            &cfg);
    assert_string_equal(cfg.ota.password, "s3cr3t!");
    assert_string_equal(cfg.web_server.username, "admin");
    assert_string_equal(cfg.web_server.password, "w3b");
    eota_config_free(&cfg);

    char tail[512];
    snprintf(tail, sizeof tail,
             ":6:15: key 'ota[0].password': !secret 'nope' is not defined in the secrets "
             "file '%s'",
             cfg_secrets_path);
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "    password: !secret nope\n",
                 tail);

    unlink(cfg_secrets_path);
    snprintf(tail, sizeof tail,
             ":6:15: key 'ota[0].password': !secret 'ota_pw': cannot open the secrets file "
             "'%s': No such file or directory",
             cfg_secrets_path);
    expect_error_status(BASE "ota:\n"
                             "  - platform: esphome\n"
                             "    password: !secret ota_pw\n",
                        EOTA_EIO, tail);

    /* a secret that is not a plain value */
    write_secrets("ota_pw: [a, b]\n");
    snprintf(tail, sizeof tail,
             ":6:15: key 'ota[0].password': !secret 'ota_pw': the entry in '%s' must be a "
             "plain value",
             cfg_secrets_path);
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "    password: !secret ota_pw\n",
                 tail);

    /* a broken secrets file is reported at its own position */
    write_secrets("ota_pw: [a\n");
    cfg_err[0] = '\0';
    write_text(cfg_path, BASE "ota:\n  - platform: esphome\n    password: !secret ota_pw\n");
    assert_int_equal(eota_config_load(cfg_path, &cfg, cfg_err, sizeof cfg_err), EOTA_EINVAL);
    char want[512];
    snprintf(want, sizeof want, "%s:2:1: YAML syntax error: did not find expected ',' or ']' "
                                "(while parsing a flow sequence at line 1, column 9)",
             cfg_secrets_path);
    assert_string_equal(cfg_err, want);
}

static void test_password_never_in_errors(void **state)
{
    (void)state;
    eota_config cfg;
    write_secrets("pw: hunter2\nport: hunter2\n");
    static const char *const bad[] = {
        /* merged entries with different passwords */
        BASE "ota:\n  - platform: esphome\n    password: hunter2\n"
             "  - platform: esphome\n    password: hunter2x\n",
        /* a secret used where a number is wanted */
        BASE "ota:\n  - platform: esphome\n    port: !secret port\n",
        /* a secret used where a boolean is wanted */
        BASE "ota:\n  - platform: esphome\n    allow_md5_auth: !secret pw\n",
        /* a secret where a duration is wanted */
        BASE "safe_mode:\n  reboot_timeout: !secret pw\n",
        /* a password of the wrong type */
        BASE "ota:\n  - platform: esphome\n    password: [hunter2]\n",
        BASE "ota:\n  - platform: esphome\n    password: {hunter2: 1}\n",
        /* an error right after the password */
        BASE "ota:\n  - platform: esphome\n    password: hunter2\n    port: 0\n",
        BASE "ota:\n  - platform: esphome\n    password: hunter2\n    bogus: 1\n",
        /* syntax error on the password's line */
        BASE "ota:\n  - platform: esphome\n    password: \"hunter2\n",
        BASE "ota:\n  - platform: esphome\n    password: hunter2\n    - x\n",
        /* web server password */
        BASE "web_server:\n  auth:\n    username: u\n    password: hunter2\n    type: md5\n",
        /* set_auth_password with an unknown id */
        BASE "esphome:\n  name: x\n",
        "esphome:\n  name: dev\n  on_boot:\n    - ota.set_auth_password: {id: z, password: "
        "hunter2}\nhost:\n",
        "esphome:\n  name: dev\n  on_boot:\n    - ota.set_auth_password: {password: hunter2}\n"
        "host:\n",
        /* the fail code from a secret */
        BASE "simulate:\n  fail_at: write\n  fail_code: !secret pw\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(cfg_path, bad[i]);
        cfg_err[0] = '\0';
        int rc = eota_config_load(cfg_path, &cfg, cfg_err, sizeof cfg_err);
        if (rc == 0 || strstr(cfg_err, "hunter2"))
            print_error("case %zu: rc %d: %s\n", i, rc, cfg_err);
        assert_int_not_equal(rc, 0);
        assert_true(strlen(cfg_err) > strlen(cfg_path) + 5);
        assert_null(strstr(cfg_err, "hunter2"));
    }
    /* and where a secret's value is shown, it is <hidden> */
    expect_error(BASE "ota:\n  - platform: esphome\n    port: !secret port\n",
                 ":6:11: key 'ota[0].port': expected an integer from 1 to 65535, got <hidden>");
}

static void test_file_errors(void **state)
{
    (void)state;
    eota_config cfg;
    char path[256], want[512];
    snprintf(path, sizeof path, "%s/missing.yaml", cfg_tmpdir);
    assert_int_equal(eota_config_load(path, &cfg, cfg_err, sizeof cfg_err), EOTA_EIO);
    snprintf(want, sizeof want,
             "%s: cannot open the configuration file: No such file or directory", path);
    assert_string_equal(cfg_err, want);

    assert_int_equal(eota_config_load(cfg_tmpdir, &cfg, cfg_err, sizeof cfg_err), EOTA_EIO);
    snprintf(want, sizeof want, "%s: cannot read the configuration file: it is a directory",
             cfg_tmpdir);
    assert_string_equal(cfg_err, want);

    expect_error("", ": the configuration file is empty (expected a YAML mapping)");
    expect_error("# only a comment\n\n",
                 ": the configuration file is empty (expected a YAML mapping)");
    expect_error("esphome:\n  name: [dev\nhost:\n",
                 ":3:5: YAML syntax error: did not find expected ',' or ']' (while parsing a "
                 "flow sequence at line 2, column 9)");
    expect_error("esphome:\n  name: dev\n host: 1\n",
                 ":3:2: YAML syntax error: did not find expected key (while parsing a block "
                 "mapping at line 1, column 1)");
    expect_error("esphome:\n  name: dev: x\nhost:\n",
                 ":2:12: YAML syntax error: mapping values are not allowed in this context");
    expect_error("esphome:\n  name: \"d\xff\"\nhost:\n",
                 ":2:11: cannot read the YAML: invalid leading UTF-8 octet");
    expect_error(BASE "---\nesphome:\n  name: two\n",
                 ":5:1: a second YAML document ('---'); the configuration file must hold one");
    expect_error("- esphome\n- host\n",
                 ":1:1: the top level must be a mapping of blocks (esphome:, ota:, ...), got a "
                 "list");
    expect_error("just text\n",
                 ":1:1: the top level must be a mapping of blocks (esphome:, ota:, ...), got "
                 "'just text'");

    /* a small buffer gets a truncated, terminated message; NULL is fine */
    char small[16];
    write_text(cfg_path, "");
    assert_int_equal(eota_config_load(cfg_path, &cfg, small, sizeof small), EOTA_EINVAL);
    assert_int_equal(strlen(small), 15);
    assert_int_equal(eota_config_load(cfg_path, &cfg, NULL, 0), EOTA_EINVAL);
    assert_int_equal(eota_config_load(NULL, &cfg, cfg_err, sizeof cfg_err), EOTA_EINVAL);
    assert_string_equal(cfg_err, "eota: no configuration file given");
}

static void test_tag_errors(void **state)
{
    (void)state;
    expect_error(BASE "ota: !include ota.yaml\n",
                 ":4:6: key 'ota': the tag '!include' is not supported (only !secret is)");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    - logger.log: !lambda return \"x\";\n"
                 "host:\n",
                 ":4:19: key 'esphome.on_boot[0].logger.log': lambdas are not supported (eota "
                 "runs no C++ code); to change the OTA password use the action "
                 "'ota.set_auth_password: {id: ..., password: ...}' instead");
    expect_error(BASE "safe_mode: !secret [sm]\n",
                 ":4:12: key 'safe_mode': !secret takes a name, not a list");
    write_secrets("sm: x\n");
    expect_error(BASE "safe_mode: !secret sm\n",
                 ":4:12: key 'safe_mode': expected a mapping, got <hidden>");
}

/* A config without a directory part finds secrets.yaml in the current
 * directory. */
static void test_secret_relative_path(void **state)
{
    (void)state;
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(cfg_tmpdir), 0);
    write_text("rel.yaml", BASE "ota:\n  - platform: esphome\n    password: !secret pw\n");
    write_text("secrets.yaml", "pw: rel\n");
    eota_config cfg;
    int rc = eota_config_load("rel.yaml", &cfg, cfg_err, sizeof cfg_err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.ota.password, "rel");
    eota_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_schema_keys, cfg_test_setup),
        cmocka_unit_test_setup(test_schema_show_and_paths, cfg_test_setup),
        cmocka_unit_test_setup(test_file_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_tag_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_secret, cfg_test_setup),
        cmocka_unit_test_setup(test_secret_relative_path, cfg_test_setup),
        cmocka_unit_test_setup(test_password_never_in_errors, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
