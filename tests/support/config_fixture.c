/*
 * config_fixture.c: the config reader tests' shared folder and load
 * helpers (config_fixture.h).
 */
#include "config_fixture.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eota/status.h"

char cfg_tmpdir[64];
char cfg_path[128];
char cfg_secrets_path[128];
char cfg_err[2048];

void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

void write_secrets(const char *text)
{
    write_text(cfg_secrets_path, text);
}

void load_ok(const char *yaml, eota_config *cfg)
{
    write_text(cfg_path, yaml);
    cfg_err[0] = '\0';
    int rc = eota_config_load(cfg_path, cfg, cfg_err, sizeof cfg_err);
    if (rc != 0)
        print_error("unexpected error: %s\n", cfg_err);
    assert_int_equal(rc, EOTA_OK);
    assert_string_equal(cfg_err, "");
}

void expect_error_status(const char *yaml, int status, const char *tail)
{
    eota_config cfg;
    char want[2048];
    memset(&cfg, 0x5A, sizeof cfg);
    write_text(cfg_path, yaml);
    int rc = eota_config_load(cfg_path, &cfg, cfg_err, sizeof cfg_err);
    snprintf(want, sizeof want, "%s%s", cfg_path, tail);
    assert_string_equal(cfg_err, want);
    assert_int_equal(rc, status);
    assert_null(cfg.path);
    assert_null(cfg.name);
    assert_null(cfg.profile);
    assert_null(cfg.ota.password);
}

void expect_error(const char *yaml, const char *tail)
{
    expect_error_status(yaml, EOTA_EINVAL, tail);
}

int cfg_group_setup(void **state)
{
    (void)state;
    snprintf(cfg_tmpdir, sizeof cfg_tmpdir, "/tmp/eota-test-config-XXXXXX");
    if (!mkdtemp(cfg_tmpdir))
        return -1;
    snprintf(cfg_path, sizeof cfg_path, "%s/device.yaml", cfg_tmpdir);
    snprintf(cfg_secrets_path, sizeof cfg_secrets_path, "%s/secrets.yaml", cfg_tmpdir);
    return 0;
}

int cfg_group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(cfg_tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", cfg_tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(cfg_tmpdir);
}

int cfg_test_setup(void **state)
{
    (void)state;
    unlink(cfg_secrets_path);
    return 0;
}
