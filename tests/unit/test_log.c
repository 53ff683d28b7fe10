/*
 * test_log.c: the eota command's logger (src/app/log.c), with stderr sent
 * to a file or to a pseudo-terminal while it writes. It proves the
 * ESPHome line "[HH:MM:SS][L][tag]: message" with the level's letter, the
 * filter (DEBUG by default; nothing above the level, nothing outside 1..6),
 * a message cut at 1023 bytes rather than overflowing, and colours only on
 * a terminal, each level its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "log.h"

/* Point stderr at fd until the matching stderr_back. */
static int stderr_to(int fd)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    return saved;
}

static void stderr_back(int saved)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/* What emit(arg) logged, NUL-terminated, in buf (stderr goes to a
 * temporary file meanwhile); its length. */
static size_t logged(void (*emit)(int), int arg, char *buf, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    int saved = stderr_to(fileno(f));
    emit(arg);
    stderr_back(saved);
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void emit_value(int level) { eota_log(level, "ota", "value %d of %s", 42, "six"); }

static void emit_each_macro(int unused)
{
    (void)unused;
    LOGE("t", "e");
    LOGW("t", "w");
    LOGI("t", "i");
    LOGD("t", "d");
    LOGV("t", "v");
}

static void emit_outside_range(int unused)
{
    (void)unused;
    eota_log(0, "t", "zero");
    eota_log(-1, "t", "negative");
    eota_log(7, "t", "seven");
    eota_log(100, "t", "hundred");
}

static void emit_error(int unused)
{
    (void)unused;
    LOGE("t", "plain");
}

static void emit_long(int unused)
{
    (void)unused;
    static char msg[3000];
    memset(msg, 'm', sizeof msg - 1);
    LOGI("long", "%s", msg);
}

/* "[HH:MM:SS]" with each field in range. */
static void assert_clock(const char *s)
{
    int h, m, sec;
    char close;
    assert_int_equal(sscanf(s, "[%2d:%2d:%2d%c", &h, &m, &sec, &close), 4);
    assert_int_equal(close, ']');
    assert_true(h >= 0 && h < 24 && m >= 0 && m < 60 && sec >= 0 && sec <= 60);
    for (int i = 1; i < 9; i++)
        assert_true(i % 3 == 0 ? s[i] == ':' : (s[i] >= '0' && s[i] <= '9'));
}

static int reset_level(void **state)
{
    (void)state;
    eota_log_set_level(4);
    return 0;
}

static void test_default_level_is_debug(void **state)
{
    (void)state;
    assert_int_equal(eota_log_get_level(), 4); /* before any set_level */
    eota_log_set_level(6);
    assert_int_equal(eota_log_get_level(), 6);
}

static void test_line_shape_and_letters(void **state)
{
    (void)state;
    static const char letters[] = "EWIDVV";
    eota_log_set_level(6);
    for (int level = 1; level <= 6; level++) {
        char buf[256], want[64];
        size_t n = logged(emit_value, level, buf, sizeof buf);
        snprintf(want, sizeof want, "[%c][ota]: value 42 of six\n", letters[level - 1]);
        assert_int_equal(n, 10 + strlen(want));
        assert_clock(buf);
        assert_string_equal(buf + 10, want);
    }
}

static void test_filter_by_level(void **state)
{
    (void)state;
    char buf[512];
    eota_log_set_level(3);
    logged(emit_each_macro, 0, buf, sizeof buf);
    assert_non_null(strstr(buf, "[E][t]: e\n"));
    assert_non_null(strstr(buf, "[W][t]: w\n"));
    assert_non_null(strstr(buf, "[I][t]: i\n"));
    assert_null(strstr(buf, "[D]"));
    assert_null(strstr(buf, "[V]"));
}

static void test_levels_outside_range_dropped(void **state)
{
    (void)state;
    char buf[256];
    eota_log_set_level(100);
    assert_int_equal(logged(emit_outside_range, 0, buf, sizeof buf), 0);
    eota_log_set_level(0);
    assert_int_equal(logged(emit_error, 0, buf, sizeof buf), 0);
}

static void test_long_message_cut(void **state)
{
    (void)state;
    static char buf[4096];
    size_t n = logged(emit_long, 0, buf, sizeof buf);
    assert_int_equal(n, 10 + strlen("[I][long]: ") + 1023 + 1);
    assert_int_equal(buf[n - 1], '\n');
    assert_int_equal(buf[n - 2], 'm');
}

/* Log one line at level onto a pseudo-terminal; what the master reads. */
static void log_on_terminal(int level, char *buf, size_t len)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        skip();
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    int saved = stderr_to(slave);
    eota_log(level, "tty", "coloured");
    stderr_back(saved);
    close(slave);
    ssize_t n = read(master, buf, len - 1);
    close(master);
    assert_true(n > 0);
    buf[n] = '\0';
}

static void test_colours_only_on_a_terminal(void **state)
{
    (void)state;
    static const char *const colours[] = {"\033[1;31m", "\033[0;33m", "\033[0;32m", "\033[0;36m", "\033[0;37m"};
    char buf[256];
    eota_log_set_level(5);
    for (int level = 1; level <= 5; level++) {
        log_on_terminal(level, buf, sizeof buf);
        size_t cl = strlen(colours[level - 1]);
        assert_memory_equal(buf, colours[level - 1], cl);
        assert_clock(buf + cl);
        assert_non_null(strstr(buf + cl + 10, "][tty]: coloured\033[0m"));
    }
    assert_true(logged(emit_error, 0, buf, sizeof buf) > 0);
    assert_null(strchr(buf, '\033'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_default_level_is_debug, reset_level),
        cmocka_unit_test_teardown(test_line_shape_and_letters, reset_level),
        cmocka_unit_test_teardown(test_filter_by_level, reset_level),
        cmocka_unit_test_teardown(test_levels_outside_range_dropped, reset_level),
        cmocka_unit_test_teardown(test_long_message_cut, reset_level),
        cmocka_unit_test_teardown(test_colours_only_on_a_terminal, reset_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
