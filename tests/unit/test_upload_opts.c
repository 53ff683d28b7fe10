/*
 * test_upload_opts.c: the command line of `eota upload`
 * (src/app/upload/opts.c). Defaults hold, every option of the table lands
 * in its field under its long and short name, repeatable options add up,
 * durations follow the program's one grammar (with a bare number being
 * seconds), and every bad value is a usage error (exit code 2) whose
 * message names the option and what it expected.
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

#include "eota/client.h"
#include "upload/opts.h"
#include "upload/web_post.h"

static char out[16384];

/* Run the parser on a NULL-terminated list of words (after "upload"), with
 * what it prints on fd (1 or 2) caught in out. */
static int parse_words(up_opts *o, int fd, const char *const *words)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"upload";
    for (; *words; words++)
        argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    fflush(fd == 1 ? stdout : stderr);
    FILE *t = tmpfile();
    assert_non_null(t);
    int saved = dup(fd);
    dup2(fileno(t), fd);
    up_opts_init(o);
    int rc = up_opts_parse(o, argc, argv);
    fflush(fd == 1 ? stdout : stderr);
    dup2(saved, fd);
    close(saved);
    rewind(t);
    size_t n = fread(out, 1, sizeof out - 1, t);
    out[n] = '\0';
    fclose(t);
    return rc;
}

#define PARSE(o, ...) parse_words(o, 2, (const char *const[]){__VA_ARGS__, NULL})

/* A numeric field, what it holds and what it should. */
typedef struct num {
    const char *name;
    long got, want;
} num;

#define NUM(o, field, value) {#field, (long)(o).field, (long)(value)}

static void check_numbers(const num *n, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (n[i].got != n[i].want)
            fail_msg("%s is %ld, expected %ld", n[i].name, n[i].got, n[i].want);
}

static void test_defaults(void **state)
{
    (void)state;
    up_opts o;
    assert_int_equal(PARSE(&o, "fw.bin"), -1);
    assert_string_equal(o.positional, "fw.bin");
    assert_null(o.file);
    assert_null(o.web_username);
    const num n[] = {
        NUM(o, port, -1), NUM(o, window, UP_DEFAULT_WINDOW), NUM(o, jobs, UP_DEFAULT_JOBS),
        NUM(o, compress, UP_COMPRESS_AUTO), NUM(o, platform, UP_PLATFORM_AUTO),
        NUM(o, retries, EOTA_CLIENT_EXTRA_RETRIES), NUM(o, retry_delay_ms, EOTA_CLIENT_RETRY_DELAY_MS),
        NUM(o, handshake_ms, EOTA_CLIENT_HANDSHAKE_TIMEOUT_MS), NUM(o, data_ms, EOTA_CLIENT_DATA_TIMEOUT_MS),
        NUM(o, ota_type, -1), NUM(o, web_auth, -1), NUM(o, web_port, -1), NUM(o, devices.n, 0),
        NUM(o, previous.n, 0), NUM(o, quiet, 0), NUM(o, json, 0), NUM(o, verbose, 0),
    };
    check_numbers(n, sizeof n / sizeof n[0]);
    up_opts_free(&o);
}

static void test_every_option(void **state)
{
    (void)state;
    up_opts o;
    assert_int_equal(PARSE(&o, "cfg.yaml", "-d", "a", "--device", "b,c", "-D", "list.txt", "-f", "fw.bin", "-p", "8266",
                           "-P", "pw", "--password-file", "pf", "--previous-password", "old1", "--previous-password",
                           "old2", "-w", "8", "-z", "never", "-j", "3", "--retries", "0", "--retry-delay", "0.25",
                           "--handshake-timeout", "2", "--data-timeout", "1min", "--ota-type", "bootloader",
                           "--ota-platform", "web_server", "--web-port", "8080", "--web-username", "admin",
                           "--web-password", "w", "--web-auth", "digest", "-q", "--json", "-v", "-v"),
                     -1);
    assert_string_equal(o.positional, "cfg.yaml");
    assert_string_equal(o.devices.v[0], "a");
    assert_string_equal(o.devices.v[1], "b,c");
    assert_string_equal(o.devices_from, "list.txt");
    assert_string_equal(o.file, "fw.bin");
    assert_string_equal(o.password, "pw");
    assert_string_equal(o.password_file, "pf");
    assert_string_equal(o.previous.v[0], "old1");
    assert_string_equal(o.previous.v[1], "old2");
    assert_string_equal(o.web_username, "admin");
    assert_string_equal(o.web_password, "w");
    const num n[] = {
        NUM(o, port, 8266), NUM(o, window, 8), NUM(o, jobs, 3), NUM(o, compress, UP_COMPRESS_NEVER),
        NUM(o, platform, UP_PLATFORM_WEB), NUM(o, retries, 0), NUM(o, retry_delay_ms, 250),
        NUM(o, handshake_ms, 2000), NUM(o, data_ms, 60000), NUM(o, ota_type, EOTA_OTA_TYPE_BOOTLOADER),
        NUM(o, web_auth, UP_WEB_AUTH_DIGEST), NUM(o, web_port, 8080), NUM(o, devices.n, 2),
        NUM(o, previous.n, 2), NUM(o, quiet, 1), NUM(o, json, 1), NUM(o, verbose, 2),
    };
    check_numbers(n, sizeof n / sizeof n[0]);
    up_opts_free(&o);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t ms;
    } good[] = {{"5", 5000}, {"0.5", 500}, {"20", 20000}, {"500ms", 500}, {"2s", 2000},
                {"1min", 60000}, {"1.5s", 1500}, {"1h", 3600000}, {"01:30", 5400000}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t ms = 0;
        assert_int_equal(up_parse_seconds(good[i].text, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"", "x", "-1", "5 parsecs", "s", "1e3", "0.0001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t ms = 7;
        assert_int_equal(up_parse_seconds(bad[i], &ms), -1);
        assert_int_equal(ms, 7);
    }
}

static void expect_usage_error(const char *const *words, const char *message)
{
    up_opts o;
    assert_int_equal(parse_words(&o, 2, words), 2);
    if (!strstr(out, message))
        fail_msg("expected '%s' in: %s", message, out);
    assert_non_null(strstr(out, "(eota upload --help tells more)"));
    up_opts_free(&o);
}

#define EXPECT_ERROR(message, ...) expect_usage_error((const char *const[]){__VA_ARGS__, NULL}, message)

static void test_errors(void **state)
{
    (void)state;
    EXPECT_ERROR("--window: expected 1 to 1024, got '0'", "fw", "-w", "0");
    EXPECT_ERROR("--port: expected 1 to 65535, got '99999'", "fw", "--port", "99999");
    EXPECT_ERROR("--jobs: expected a number from 1, got '2x'", "fw", "-j", "2x");
    EXPECT_ERROR("--retries: expected 0 to 1000, got '-1'", "fw", "--retries", "-1");
    EXPECT_ERROR("--compress: expected auto, always or never, got 'x'", "fw", "-z", "x");
    EXPECT_ERROR("--ota-platform: expected esphome or web_server, got 'http'", "fw", "--ota-platform", "http");
    EXPECT_ERROR("--web-auth: expected basic, digest or any, got 'ntlm'", "fw", "--web-auth", "ntlm");
    EXPECT_ERROR("--ota-type: expected app, partition-table or bootloader, got 'x'", "fw", "--ota-type", "x");
    EXPECT_ERROR("--retry-delay: expected seconds (e.g. 5, 0.5, 500ms), got 'soon'", "fw", "--retry-delay", "soon");
    EXPECT_ERROR("--handshake-timeout: expected seconds above 0, got '0'", "fw", "--handshake-timeout", "0");
    EXPECT_ERROR("--data-timeout: expected seconds above 0, got '0ms'", "fw", "--data-timeout", "0ms");
    EXPECT_ERROR("option '--port' needs a value", "fw", "--port");
    EXPECT_ERROR("option '-d' needs a value", "fw", "-d");
    EXPECT_ERROR("unknown option '--bogus'", "fw", "--bogus");
    EXPECT_ERROR("one firmware or config only; unexpected 'b'", "a", "b");
    EXPECT_ERROR("no firmware or config given", "-q");
}

static void test_help(void **state)
{
    (void)state;
    up_opts o;
    /* --help ends the parsing: what follows it is not read */
    assert_int_equal(parse_words(&o, 1, (const char *const[]){"-h", "--bogus", NULL}), 0);
    assert_non_null(strstr(out, "usage: eota upload FIRMWARE"));
    assert_non_null(strstr(out, "saves at least 10%; always"));
    assert_non_null(strstr(out, "(default 32; 1 is stop-and-wait"));
    assert_non_null(strstr(out, "else 3232, the ESP32 default"));
    assert_non_null(strstr(out, "--web-auth digest\n"));
    up_opts_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_every_option), cmocka_unit_test(test_durations),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
