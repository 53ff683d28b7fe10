/*
 * test_upload_devices.c: device specs and --devices-from of `eota upload`
 * (src/app/upload/devices.c): every address form, the default port, several
 * addresses of one device, and a clear error for each malformed spec.
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

#include "upload/devices.h"

static char err[512];

static void expect_targets(const char *spec, size_t n, const char *const *hosts, const uint16_t *ports)
{
    up_target *t = NULL;
    size_t got = 0;
    if (up_spec_parse(spec, 3232, &t, &got, err, sizeof err) != 0)
        fail_msg("'%s': %s", spec, err);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i].host, hosts[i]);
        assert_int_equal(t[i].port, ports[i]);
    }
    up_targets_free(t, got);
}

#define TARGETS(spec, n, ...) expect_targets(spec, n, (const char *const[]){__VA_ARGS__}, ports)

static void test_forms(void **state)
{
    (void)state;
    const uint16_t ports[] = {3232};
    TARGETS("kitchen.local", 1, "kitchen.local");
    TARGETS("  10.0.0.5  ", 1, "10.0.0.5");
    TARGETS("[fd00::20]", 1, "fd00::20");
    TARGETS("fd00::20", 1, "fd00::20");
    TARGETS("::1", 1, "::1");
    const uint16_t p8266[] = {8266};
    expect_targets("garage.local:8266", 1, (const char *const[]){"garage.local"}, p8266);
    expect_targets("[::1]:8266", 1, (const char *const[]){"::1"}, p8266);
}

static void test_several_addresses(void **state)
{
    (void)state;
    const uint16_t ports[] = {8266, 3232, 1};
    expect_targets("[::1]:8266, 10.0.0.5 ,,h:1,", 3, (const char *const[]){"::1", "10.0.0.5", "h"}, ports);
}

static void expect_error(const char *spec, const char *message)
{
    up_target *t = NULL;
    size_t n = 0;
    assert_int_equal(up_spec_parse(spec, 3232, &t, &n, err, sizeof err), -1);
    if (!strstr(err, message))
        fail_msg("'%s': expected '%s', got '%s'", spec, message, err);
    up_targets_free(t, n);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[::1", "missing ']' in device address '[::1'");
    expect_error("[::1]x", "unexpected text after ']' in device address '[::1]x'");
    expect_error("h:99999", "bad port in device address 'h:99999' (expected 1 to 65535)");
    expect_error("h:", "bad port in device address 'h:'");
    expect_error(":80", "no host in device address ':80'");
    expect_error("[]:80", "no host in device address '[]:80'");
    expect_error(" , ", "empty device ' , '");
    expect_error("a,h:0", "bad port in device address 'h:0'");
}

static void test_devices_file(void **state)
{
    (void)state;
    char path[] = "/tmp/eota-devices-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "# the fleet\nkitchen.local\n\n  garage.local:8266  # in the garage\n   \n[::1]:1";
    assert_int_equal(write(fd, text, sizeof text - 1), sizeof text - 1);
    close(fd);
    up_list l = {NULL, 0};
    l.v = malloc(sizeof *l.v);
    l.v[l.n++] = strdup("given.local");
    assert_int_equal(up_devices_read(path, &l, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0], "given.local");
    assert_string_equal(l.v[1], "kitchen.local");
    assert_string_equal(l.v[2], "garage.local:8266");
    assert_string_equal(l.v[3], "[::1]:1");
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    assert_int_equal(up_devices_read("/nonexistent/list", &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open --devices-from '/nonexistent/list': No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms), cmocka_unit_test(test_several_addresses),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_devices_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
