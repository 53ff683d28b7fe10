/*
 * test_supervisor.c: the child-process supervisor with real processes
 * (/bin/sh, /bin/true): started in a group of their own with the caller's
 * environment and an empty signal mask, reaped with their status, killed at
 * their deadline, stopped with SIGTERM, and with SIGKILL when they ignore it.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eota/posix.h"
#include "supervisor.h"

typedef struct seen {
    int exits, timeouts;
    pid_t pid;
    int status;
} seen;

static void on_exit_hook(void *ctx, pid_t pid, int status)
{
    seen *s = ctx;
    s->exits++;
    s->pid = pid;
    s->status = status;
}

static void on_timeout_hook(void *ctx, pid_t pid)
{
    seen *s = ctx;
    s->timeouts++;
    s->pid = pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The pid a script wrote into path. */
static pid_t read_pid(const char *path)
{
    int pid = 0;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    assert_true(pid > 0);
    return (pid_t)pid;
}

/* A grandchild killed with its group: gone, or a zombie its new parent has
 * not reaped yet; within a second. */
static int background_gone(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        char *ok = fgets(line, sizeof line, f);
        fclose(f);
        const char *paren = ok ? strrchr(line, ')') : NULL;
        if (paren && paren[1] == ' ' && paren[2] == 'Z')
            return 1;
        sleep_ms(10);
    }
    return 0;
}

/* Reap until the hook saw `exits` ends, for at most 5 s. */
static void reap_until(sup_table *t, seen *s, int exits)
{
    sup_table *tables[] = {t};
    for (int i = 0; i < 500 && s->exits < exits; i++) {
        sup_reap_all(tables, 1);
        if (s->exits < exits)
            sleep_ms(10);
    }
    assert_int_equal(s->exits, exits);
}

static pid_t spawn_sh(sup_table *t, seen *s, const char *script, uint32_t timeout_ms)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    sup_spec spec = {"/bin/sh", argv, NULL, 0, timeout_ms, NULL, {on_exit_hook, on_timeout_hook, s}};
    pid_t pid = sup_spawn(t, &spec);
    assert_true(pid > 0);
    return pid;
}

static void test_true_is_reaped_with_its_status(void **state)
{
    (void)state;
    sup_table t;
    sup_init(&t, 4);
    seen s = {0};
    char *argv[] = {"true", NULL};
    sup_spec spec = {NULL, argv, NULL, 0, 0, NULL, {on_exit_hook, NULL, &s}};
    pid_t pid = sup_spawn(&t, &spec);
    assert_true(pid > 0);
    assert_int_equal(sup_running(&t), 1);
    reap_until(&t, &s, 1);
    assert_int_equal(s.pid, pid);
    assert_true(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0);
    assert_int_equal(sup_running(&t), 0);

    spawn_sh(&t, &s, "exit 3", 0);
    reap_until(&t, &s, 2);
    assert_true(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 3);
}

static void test_environment_group_and_mask(void **state)
{
    (void)state;
    char dir[] = "/tmp/eota-sup-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[1024], out[64];
    snprintf(out, sizeof out, "%s/out", dir);
    /* $$ is the child's pid; ps-free check of its group: /proc/self/stat
     * field 5 is the pgrp. SigBlk of an empty mask is all zeros. */
    snprintf(script, sizeof script,
             "read -r _ _ _ _ pgrp _ < /proc/$$/stat; blk=$(grep SigBlk /proc/$$/status | tr -d '\\t');"
             " echo \"$GREETING $WHO $pgrp $blk\" > %s",
             out);
    char *env[] = {"GREETING=hello", "WHO=first", "WHO=second"};
    char *argv[] = {"sh", "-c", script, NULL};
    sup_table t;
    sup_init(&t, 1);
    seen s = {0};
    sup_spec spec = {"/bin/sh", argv, env, 3, 0, NULL, {on_exit_hook, NULL, &s}};
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old); /* the child must not inherit it */
    pid_t pid = sup_spawn(&t, &spec);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_true(pid > 0);
    reap_until(&t, &s, 1);
    char line[256] = "", want[256];
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    snprintf(want, sizeof want, "hello second %d SigBlk:0000000000000000\n", (int)pid);
    assert_string_equal(line, want);
    assert_null(getenv("GREETING")); /* set in the child only */
    unlink(out);
    rmdir(dir);
}

static void test_exec_failure_exits_127(void **state)
{
    (void)state;
    sup_table t;
    sup_init(&t, 1);
    seen s = {0};
    char *argv[] = {"/nonexistent/eota-test-program", NULL};
    sup_spec spec = {NULL, argv, NULL, 0, 0, "test_supervisor", {on_exit_hook, NULL, &s}};
    assert_true(sup_spawn(&t, &spec) > 0);
    reap_until(&t, &s, 1);
    assert_true(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 127);
}

static void test_full_table_starts_nothing(void **state)
{
    (void)state;
    sup_table t;
    sup_init(&t, 1);
    seen s = {0};
    pid_t first = spawn_sh(&t, &s, "sleep 5", 0);
    char *argv[] = {"true", NULL};
    sup_spec spec = {NULL, argv, NULL, 0, 0, NULL, {on_exit_hook, NULL, &s}};
    assert_int_equal(sup_spawn(&t, &spec), 0);
    assert_int_equal(sup_running(&t), 1);
    /* a pid that is not the table's is not taken */
    assert_int_equal(sup_reaped(&t, first + 100000, 0), 0);
    assert_int_equal(sup_stop(&t, first + 100000, 10), -1);
    assert_int_equal(sup_stop(&t, first, 2000), 0);
    assert_int_equal(sup_running(&t), 0);
    assert_int_equal(s.exits, 0); /* a stop is not reported as an exit */
}

static void test_deadline_kills_the_group(void **state)
{
    (void)state;
    sup_table t;
    sup_init(&t, 2);
    seen s = {0};
    assert_int_equal(sup_next_timeout_ms(&t), -1);
    char dir[] = "/tmp/eota-sup-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[256], out[64];
    snprintf(out, sizeof out, "%s/bg", dir);
    snprintf(script, sizeof script, "sleep 5 & echo $! > %s; wait", out);
    pid_t pid = spawn_sh(&t, &s, script, 150);
    long left = sup_next_timeout_ms(&t);
    assert_true(left > 0 && left <= 150);
    sup_check_timeouts(&t); /* too early: nothing happens */
    assert_int_equal(s.timeouts, 0);
    sleep_ms(200);
    assert_int_equal(sup_next_timeout_ms(&t), 0);
    uint64_t t0 = eota_posix_now_ms64();
    sup_check_timeouts(&t);
    assert_int_equal(s.timeouts, 1);
    pid_t bg = read_pid(out);
    assert_int_equal(s.pid, pid);
    assert_int_equal(sup_next_timeout_ms(&t), -1); /* killed once only */
    reap_until(&t, &s, 1);
    assert_true(WIFSIGNALED(s.status) && WTERMSIG(s.status) == SIGKILL);
    assert_true(eota_posix_now_ms64() - t0 < 2000); /* not the 5 s sleep */
    assert_true(background_gone(bg));
    unlink(out);
    rmdir(dir);
}

static void test_stop_with_sigterm(void **state)
{
    (void)state;
    sup_table t;
    sup_init(&t, 1);
    seen s = {0};
    pid_t pid = spawn_sh(&t, &s, "sleep 5", 0);
    uint64_t t0 = eota_posix_now_ms64();
    assert_int_equal(sup_stop(&t, pid, 3000), 0);
    assert_true(eota_posix_now_ms64() - t0 < 2000);
    assert_int_equal(kill(pid, 0), -1);
}

static void test_stop_kills_a_child_ignoring_sigterm(void **state)
{
    (void)state;
    char dir[] = "/tmp/eota-sup-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[256], ready[64];
    snprintf(ready, sizeof ready, "%s/ready", dir);
    snprintf(script, sizeof script, "trap '' TERM; touch %s; while :; do sleep 0.05; done", ready);
    sup_table t;
    sup_init(&t, 1);
    seen s = {0};
    pid_t pid = spawn_sh(&t, &s, script, 0);
    struct stat st;
    for (int i = 0; i < 500 && stat(ready, &st) != 0; i++)
        sleep_ms(10);
    assert_int_equal(stat(ready, &st), 0);
    uint64_t t0 = eota_posix_now_ms64();
    assert_int_equal(sup_stop(&t, pid, 300), 1);
    uint64_t took = eota_posix_now_ms64() - t0;
    assert_true(took >= 300 && took < 3000);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(s.exits, 0);
    unlink(ready);
    rmdir(dir);
}

static void test_reap_all_dispatches_by_table(void **state)
{
    (void)state;
    sup_table a, b;
    sup_init(&a, 2);
    sup_init(&b, 2);
    seen sa = {0}, sb = {0};
    pid_t pa = spawn_sh(&a, &sa, "exit 1", 0);
    pid_t pb = spawn_sh(&b, &sb, "exit 2", 0);
    sup_table *tables[] = {&a, &b};
    for (int i = 0; i < 500 && (sa.exits + sb.exits) < 2; i++) {
        sup_reap_all(tables, 2);
        sleep_ms(10);
    }
    assert_int_equal(sa.exits, 1);
    assert_int_equal(sb.exits, 1);
    assert_int_equal(sa.pid, pa);
    assert_int_equal(sb.pid, pb);
    assert_int_equal(WEXITSTATUS(sa.status), 1);
    assert_int_equal(WEXITSTATUS(sb.status), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_is_reaped_with_its_status),
        cmocka_unit_test(test_environment_group_and_mask),
        cmocka_unit_test(test_exec_failure_exits_127),
        cmocka_unit_test(test_full_table_starts_nothing),
        cmocka_unit_test(test_deadline_kills_the_group),
        cmocka_unit_test(test_stop_with_sigterm),
        cmocka_unit_test(test_stop_kills_a_child_ignoring_sigterm),
        cmocka_unit_test(test_reap_all_dispatches_by_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
