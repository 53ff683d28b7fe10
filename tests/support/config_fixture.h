/*
 * config_fixture.h: what the config reader's unit tests share: a temporary
 * folder holding device.yaml and secrets.yaml, loading a config that must
 * pass, and loading one that must fail with an exact message.
 */
#ifndef EOTA_TEST_CONFIG_FIXTURE_H
#define EOTA_TEST_CONFIG_FIXTURE_H

#include "config/config.h"

/* The start of most configs: lines 1 to 3. */
#define BASE "esphome:\n  name: dev\nhost:\n"

extern char cfg_tmpdir[64];
extern char cfg_path[128];         /* <cfg_tmpdir>/device.yaml */
extern char cfg_secrets_path[128]; /* <cfg_tmpdir>/secrets.yaml */
extern char cfg_err[2048];         /* the message of the last load */

void write_text(const char *path, const char *text);
void write_secrets(const char *text);

/* Write yaml to cfg_path and load it; it must load without a message. */
void load_ok(const char *yaml, eota_config *cfg);

/* The message must be exactly cfg_path followed by tail, the status as
 * given, and the struct left zeroed. */
void expect_error_status(const char *yaml, int status, const char *tail);
/* The same with EOTA_EINVAL. */
void expect_error(const char *yaml, const char *tail);

/* cmocka group setup and teardown (the folder), and a per-test setup
 * (each test starts without a secrets file). */
int cfg_group_setup(void **state);
int cfg_group_teardown(void **state);
int cfg_test_setup(void **state);

#endif
