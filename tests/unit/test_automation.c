/*
 * test_automation.c: the automations of `eota device`: logger.log lines
 * formatted with `x` and `state` (and refused formats explained), the
 * EOTA_* environment of shell actions (built, and seen by a real /bin/sh),
 * which trigger each engine event fires with which `x`, on_state_change only
 * on a change (progress does not repeat it), and shell actions that fail,
 * run past their timeout, or find the table full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "device/automation.h"
#include "log.h"

/* ---------------- helpers ---------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* stderr (the log) goes to a file between capture_start and capture_end. */
typedef struct capture {
    FILE *file;
    int saved;
} capture;

static void capture_start(capture *c)
{
    c->file = tmpfile();
    assert_non_null(c->file);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(fileno(c->file), STDERR_FILENO), STDERR_FILENO);
}

/* What was logged, messages only ("[12:00:00][I][tag]: " cut off), one per
 * line; to free. */
static char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    rewind(c->file);
    char *out = calloc(1, 65536), line[1024];
    assert_non_null(out);
    while (fgets(line, sizeof line, c->file)) {
        const char *msg = strstr(line, "]: ");
        strncat(out, msg ? msg + 3 : line, 65536 - strlen(out) - 1);
    }
    fclose(c->file);
    return out;
}

/* Reap the shell actions until none runs, for at most 5 s. */
static void reap_shells(dev_automations *a)
{
    sup_table *tables[] = {&a->shells};
    for (int i = 0; i < 500 && sup_running(&a->shells); i++) {
        sup_check_timeouts(&a->shells);
        sup_reap_all(tables, 1);
        if (sup_running(&a->shells))
            sleep_ms(10);
    }
    assert_int_equal(sup_running(&a->shells), 0);
}

static eota_action log_action(const char *fmt, char **args, size_t nargs)
{
    eota_action act = {.type = EOTA_ACTION_LOGGER_LOG, .format = (char *)fmt, .args = args, .nargs = nargs,
                       .level = EOTA_CONFIG_LEVEL_INFO, .tag = "t"};
    return act;
}

static eota_action shell_action(const char *command, uint32_t timeout_ms)
{
    eota_action act = {.type = EOTA_ACTION_SHELL, .command = (char *)command, .timeout_ms = timeout_ms};
    return act;
}

static const dev_auto_vars progress_vars = {"on_progress", 42.75, 0, EOTA_STATE_IN_PROGRESS, 0, "dev"};

static void expect_format(const char *fmt, char **args, size_t nargs, const dev_auto_vars *v, const char *want)
{
    char out[256];
    assert_int_equal(dev_automation_format(out, sizeof out, fmt, args, nargs, v), 0);
    assert_string_equal(out, want);
}

static void expect_refused(const char *fmt, char **args, size_t nargs, const char *want)
{
    char out[256];
    assert_int_equal(dev_automation_format(out, sizeof out, fmt, args, nargs, &progress_vars), -1);
    assert_string_equal(out, want);
}

/* ---------------- logger.log ---------------- */

static void test_format_x_and_state(void **state)
{
    (void)state;
    char *x[] = {"x"}, *st[] = {"state"}, *both[] = {"(int) x", " state ", "( float )x"};
    expect_format("Progress %.1f%%", x, 1, &progress_vars, "Progress 42.8%");
    expect_format("%d", x, 1, &progress_vars, "42");
    expect_format("state %s", st, 1, &progress_vars, "state IN_PROGRESS");
    expect_format("state %d", st, 1, &progress_vars, "state 2");
    expect_format("%04d|%-3s|%6.2f", both, 3, &progress_vars, "0042|IN_PROGRESS| 42.75");
    expect_format("%lu %lld", both, 2, &progress_vars, "42 2"); /* length modifiers: our types */
    expect_format("no args, 100%%", NULL, 0, &progress_vars, "no args, 100%");
    dev_auto_vars err = {"on_error", 0x8B, 1, EOTA_STATE_ERROR, 0x8B, "dev"};
    expect_format("code %x %u %s", (char *[]){"x", "x", "state"}, 3, &err, "code 8b 139 ERROR");
}

static void test_format_refusals(void **state)
{
    (void)state;
    char *x[] = {"x"}, *y[] = {"y"}, *open_cast[] = {"(int x"};
    expect_refused("%n", x, 1, "<bad format '%n': unsupported conversion>");
    expect_refused("trailing %", x, 1, "<bad format 'trailing %': unsupported conversion>");
    expect_refused("%d and %d", x, 1, "<bad format '%d and %d': more conversions than args>");
    expect_refused("%d", y, 1, "<bad arg 'y': only x and state are known>");
    expect_refused("%d", open_cast, 1, "<bad arg '(int x': only x and state are known>");
}

static void test_format_fits_small_buffers(void **state)
{
    (void)state;
    char out[8];
    char *x[] = {"x"};
    assert_int_equal(dev_automation_format(out, sizeof out, "progress %.3f", x, 1, &progress_vars), 0);
    assert_string_equal(out, "progres");
    assert_int_equal(dev_automation_format(out, sizeof out, "%.3f percent", x, 1, &progress_vars), 0);
    assert_string_equal(out, "42.750 ");
}

/* ---------------- the shell environment ---------------- */

static void test_shell_env_entries(void **state)
{
    (void)state;
    dev_shell_env e;
    dev_auto_vars err = {"on_error", 0x8B, 1, EOTA_STATE_ERROR, 0x8B, "living-room"};
    assert_int_equal(dev_shell_env_build(&e, &err), 0);
    const char *want[] = {"EOTA_TRIGGER=on_error",  "EOTA_X=139",
                          "EOTA_STATE=ERROR",       "EOTA_STATE_CODE=4",
                          "EOTA_ERROR_CODE=0x8b",   "EOTA_ERROR_NAME=ERROR_MD5_MISMATCH",
                          "EOTA_DEVICE=living-room"};
    for (int i = 0; i < DEV_SHELL_ENV_COUNT; i++)
        assert_string_equal(e.entry[i], want[i]);

    assert_int_equal(dev_shell_env_build(&e, &progress_vars), 0);
    assert_string_equal(e.entry[1], "EOTA_X=42.8");
    assert_string_equal(e.entry[4], "EOTA_ERROR_CODE=0x00");
    assert_string_equal(e.entry[5], "EOTA_ERROR_NAME="); /* no error: empty */

    dev_auto_vars odd = {"on_error", 0x7E, 1, EOTA_STATE_ERROR, 0x7E, NULL};
    assert_int_equal(dev_shell_env_build(&e, &odd), 0);
    assert_string_equal(e.entry[5], "EOTA_ERROR_NAME=UNKNOWN");
    assert_string_equal(e.entry[6], "EOTA_DEVICE=");
}

static void test_shell_action_sees_the_environment(void **state)
{
    (void)state;
    char path[] = "/tmp/eota-auto-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "env | grep -E '^EOTA_(TRIGGER|X|STATE|STATE_CODE|ERROR_CODE|ERROR_NAME|DEVICE)=' | LC_ALL=C sort > %s",
             path);
    eota_action act = shell_action(cmd, 0);
    eota_automation au = {&act, 1, false, 0};
    dev_automations a;
    dev_automations_init(&a, "kitchen");
    dev_auto_vars v = {"on_end", 100, 0, EOTA_STATE_COMPLETED, 0, "kitchen"};
    dev_automation_run(&a, &au, &v);
    reap_shells(&a);
    char got[1024] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    unlink(path);
    assert_string_equal(got, "EOTA_DEVICE=kitchen\nEOTA_ERROR_CODE=0x00\nEOTA_ERROR_NAME=\n"
                             "EOTA_STATE=COMPLETED\nEOTA_STATE_CODE=0\nEOTA_TRIGGER=on_end\nEOTA_X=100.0\n");
}

/* ---------------- triggers ---------------- */

static void fire(dev_automations *a, const eota_ota_config *o, eota_state st, uint8_t code, uint32_t received)
{
    eota_event ev = {st, code, received, 200, NULL};
    dev_automations_event(a, o, &ev);
}

static void test_events_fire_their_triggers(void **state)
{
    (void)state;
    char *x[] = {"x"}, *xs[] = {"x", "state"};
    eota_action begin = log_action("begin %.1f", x, 1), progress = log_action("progress %.1f", x, 1),
                end = log_action("end %.0f", x, 1), abort_ = log_action("abort %.0f", x, 1),
                error = log_action("error %d", x, 1), change = log_action("change %d %s", xs, 2);
    eota_ota_config o;
    memset(&o, 0, sizeof o);
    o.on_begin = (eota_automation){&begin, 1, false, 0};
    o.on_progress = (eota_automation){&progress, 1, false, 0};
    o.on_end = (eota_automation){&end, 1, false, 0};
    o.on_abort = (eota_automation){&abort_, 1, false, 0};
    o.on_error = (eota_automation){&error, 1, false, 0};
    o.on_state_change = (eota_automation){&change, 1, false, 0};
    dev_automations a;
    dev_automations_init(&a, "dev");
    capture c;
    capture_start(&c);
    fire(&a, &o, EOTA_STATE_STARTED, 0, 0);
    fire(&a, &o, EOTA_STATE_IN_PROGRESS, 0, 50);
    fire(&a, &o, EOTA_STATE_IN_PROGRESS, 0, 100);
    fire(&a, &o, EOTA_STATE_COMPLETED, 0, 200);
    fire(&a, &o, EOTA_STATE_ERROR, 0x83, 10);
    fire(&a, &o, EOTA_STATE_ERROR, 0x84, 10); /* not IN_PROGRESS: repeats */
    fire(&a, &o, EOTA_STATE_ABORT, 0, 10);
    char *log = capture_end(&c);
    assert_string_equal(log, "begin 0.0\nchange 1 STARTED\n"
                             "progress 25.0\nchange 2 IN_PROGRESS\nprogress 50.0\n"
                             "end 100\nchange 0 COMPLETED\n"
                             "error 131\nchange 4 ERROR\nerror 132\nchange 4 ERROR\n"
                             "abort 0\nchange 3 ABORT\n");
    free(log);
}

static void test_levels_and_tags_of_logger_log(void **state)
{
    (void)state;
    eota_action quiet = log_action("hidden", NULL, 0), loud = log_action("shown", NULL, 0);
    quiet.level = EOTA_CONFIG_LEVEL_VERBOSE;
    loud.level = EOTA_CONFIG_LEVEL_WARN;
    loud.tag = NULL; /* ESPHome's default tag */
    eota_action both[] = {quiet, loud};
    eota_automation au = {both, 2, false, 0};
    dev_automations a;
    dev_automations_init(&a, "dev");
    int saved = eota_log_get_level();
    eota_log_set_level(EOTA_CONFIG_LEVEL_DEBUG);
    capture c;
    capture_start(&c);
    dev_automation_run(&a, &au, &progress_vars);
    fflush(stderr);
    char raw[256] = "";
    rewind(c.file);
    assert_non_null(fgets(raw, sizeof raw, c.file));
    free(capture_end(&c));
    eota_log_set_level(saved);
    assert_non_null(strstr(raw, "[W][main]: shown\n"));
}

/* ---------------- shell actions that go wrong ---------------- */

static void test_shell_failure_timeout_and_full_table(void **state)
{
    (void)state;
    eota_action acts[] = {shell_action("exit 3", 0), shell_action("sleep 5", 100), shell_action("sleep 5", 0)};
    eota_automation au = {acts, 3, false, 0};
    dev_automations a;
    dev_automations_init(&a, "dev");
    a.shells.limit = 2; /* the third finds the table full */
    capture c;
    capture_start(&c);
    dev_automation_run(&a, &au, &progress_vars);
    assert_int_equal(sup_running(&a.shells), 2);
    assert_true(sup_next_timeout_ms(&a.shells) <= 100);
    sleep_ms(150);
    reap_shells(&a);
    char *log = capture_end(&c);
    assert_non_null(strstr(log, "too many shell actions still running; 'sleep 5' not started\n"));
    assert_non_null(strstr(log, ") exited with status 3\n"));
    assert_non_null(strstr(log, ") ran past its timeout: killed\n"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_x_and_state),
        cmocka_unit_test(test_format_refusals),
        cmocka_unit_test(test_format_fits_small_buffers),
        cmocka_unit_test(test_shell_env_entries),
        cmocka_unit_test(test_shell_action_sees_the_environment),
        cmocka_unit_test(test_events_fire_their_triggers),
        cmocka_unit_test(test_levels_and_tags_of_logger_log),
        cmocka_unit_test(test_shell_failure_timeout_and_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
