/*
 * test_supervisor.c: the child-process supervisor with real processes
 * (/bin/sh, /bin/true): started in a group of their own with the caller's
 * environment and an empty signal mask, reaped with their status, killed at
 * their deadline, stopped with SIGTERM, and with SIGKILL when they ignore it;
 * stopped without waiting (sup_stop_begin); dying with their parent
 * (PR_SET_PDEATHSIG); and their descendants, a setsid one included, found
 * in /proc (proctree.h).
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
#include "proctree.h"
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

/* Each test's table (of one child), what its hooks saw, and a file in a
 * directory of its own for what a child writes. */
typedef struct fx {
    sup_table t;
    seen s;
    char dir[32];
    char path[64];
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    sup_init(&f->t, 1);
    snprintf(f->dir, sizeof f->dir, "/tmp/eota-sup-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/file", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Reap until the hook saw `exits` ends, for at most 5 s. */
static void reap_until(fx *f, int exits)
{
    sup_table *tables[] = {&f->t};
    for (int i = 0; i < 500 && f->s.exits < exits; i++) {
        sup_reap_all(tables, 1);
        if (f->s.exits < exits)
            sleep_ms(10);
    }
    assert_int_equal(f->s.exits, exits);
}

static pid_t spawn_in(sup_table *t, seen *s, const char *script, uint32_t timeout_ms)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    sup_spec spec = {"/bin/sh", argv, NULL, 0, timeout_ms, NULL, {on_exit_hook, on_timeout_hook, s}};
    pid_t pid = sup_spawn(t, &spec);
    assert_true(pid > 0);
    return pid;
}

static pid_t spawn_sh(fx *f, const char *script, uint32_t timeout_ms)
{
    return spawn_in(&f->t, &f->s, script, timeout_ms);
}

/* An argv of one program, no environment, no deadline. */
static pid_t spawn_plain(fx *f, char *program, const char *who)
{
    char *argv[] = {program, NULL};
    sup_spec spec = {NULL, argv, NULL, 0, 0, who, {on_exit_hook, NULL, &f->s}};
    return sup_spawn(&f->t, &spec);
}

static void test_true_is_reaped_with_its_status(void **state)
{
    fx *f = *state;
    pid_t pid = spawn_plain(f, "true", NULL);
    assert_true(pid > 0);
    assert_int_equal(sup_running(&f->t), 1);
    reap_until(f, 1);
    assert_int_equal(f->s.pid, pid);
    assert_true(WIFEXITED(f->s.status) && WEXITSTATUS(f->s.status) == 0);
    assert_int_equal(sup_running(&f->t), 0);

    spawn_sh(f, "exit 3", 0);
    reap_until(f, 2);
    assert_true(WIFEXITED(f->s.status) && WEXITSTATUS(f->s.status) == 3);
}

static void test_environment_group_and_mask(void **state)
{
    fx *f = *state;
    char script[1024];
    /* $$ is the child's pid; field 5 of /proc/PID/stat its process group;
     * SigBlk of an empty mask is all zeros. */
    snprintf(script, sizeof script,
             "read -r _ _ _ _ pgrp _ < /proc/$$/stat; blk=$(grep SigBlk /proc/$$/status | tr -d '\\t');"
             " echo \"$GREETING $WHO $pgrp $blk\" > %s",
             f->path);
    char *env[] = {"GREETING=hello", "WHO=first", "WHO=second"};
    char *argv[] = {"sh", "-c", script, NULL};
    sup_spec spec = {"/bin/sh", argv, env, 3, 0, NULL, {on_exit_hook, NULL, &f->s}};
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old); /* the child must not inherit it */
    pid_t pid = sup_spawn(&f->t, &spec);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_true(pid > 0);
    reap_until(f, 1);
    char line[256] = "", want[256];
    FILE *file = fopen(f->path, "r");
    assert_non_null(file);
    assert_non_null(fgets(line, sizeof line, file));
    fclose(file);
    snprintf(want, sizeof want, "hello second %d SigBlk:0000000000000000\n", (int)pid);
    assert_string_equal(line, want);
    assert_null(getenv("GREETING")); /* set in the child only */
}

static void test_exec_failure_exits_127(void **state)
{
    fx *f = *state;
    assert_true(spawn_plain(f, "/nonexistent/eota-test-program", "test_supervisor") > 0);
    reap_until(f, 1);
    assert_true(WIFEXITED(f->s.status) && WEXITSTATUS(f->s.status) == 127);
}

/* A shell running script once it runs: it touches f->path first, and the
 * test waits for that, so that a signal meets the script and not a child
 * still between fork and exec (under valgrind a signal that comes then can
 * stay blocked in the new program). */
static pid_t spawn_running(fx *f, const char *script)
{
    char line[300];
    snprintf(line, sizeof line, "touch %s; %s", f->path, script);
    pid_t pid = spawn_sh(f, line, 0);
    struct stat st;
    for (int i = 0; i < 500 && stat(f->path, &st) != 0; i++)
        sleep_ms(10);
    assert_int_equal(stat(f->path, &st), 0);
    return pid;
}

/* A child that ignores SIGTERM, once it runs. */
static pid_t spawn_ignoring_sigterm(fx *f)
{
    return spawn_running(f, "trap '' TERM; while :; do sleep 0.05; done");
}

static void test_full_table_starts_nothing(void **state)
{
    fx *f = *state;
    pid_t first = spawn_running(f, "sleep 5");
    assert_int_equal(spawn_plain(f, "true", NULL), 0);
    assert_int_equal(sup_running(&f->t), 1);
    /* a pid that is not the table's is not taken */
    assert_int_equal(sup_reaped(&f->t, first + 100000, 0), 0);
    assert_int_equal(sup_stop(&f->t, first + 100000, 10), -1);
    assert_int_equal(sup_stop(&f->t, first, 2000), 0);
    assert_int_equal(sup_running(&f->t), 0);
    assert_int_equal(f->s.exits, 0); /* a stop is not reported as an exit */
}

static void test_deadline_kills_the_group(void **state)
{
    fx *f = *state;
    assert_int_equal(sup_next_timeout_ms(&f->t), -1);
    char script[256];
    snprintf(script, sizeof script, "sleep 5 & echo $! > %s; wait", f->path);
    pid_t pid = spawn_sh(f, script, 150);
    long left = sup_next_timeout_ms(&f->t);
    assert_true(left > 0 && left <= 150);
    sup_check_timeouts(&f->t); /* too early: nothing happens */
    assert_int_equal(f->s.timeouts, 0);
    sleep_ms(200);
    assert_int_equal(sup_next_timeout_ms(&f->t), 0);
    uint64_t t0 = eota_posix_now_ms64();
    sup_check_timeouts(&f->t);
    assert_int_equal(f->s.timeouts, 1);
    pid_t bg = read_pid(f->path);
    assert_int_equal(f->s.pid, pid);
    assert_int_equal(sup_next_timeout_ms(&f->t), -1); /* killed once only */
    reap_until(f, 1);
    assert_true(WIFSIGNALED(f->s.status) && WTERMSIG(f->s.status) == SIGKILL);
    assert_true(eota_posix_now_ms64() - t0 < 2000); /* not the 5 s sleep */
    assert_true(background_gone(bg));
}

static void test_stop_with_sigterm(void **state)
{
    fx *f = *state;
    pid_t pid = spawn_running(f, "sleep 5");
    uint64_t t0 = eota_posix_now_ms64();
    assert_int_equal(sup_stop(&f->t, pid, 3000), 0);
    assert_true(eota_posix_now_ms64() - t0 < 2000);
    assert_int_equal(kill(pid, 0), -1);
}

static void test_stop_kills_a_child_ignoring_sigterm(void **state)
{
    fx *f = *state;
    pid_t pid = spawn_ignoring_sigterm(f);
    uint64_t t0 = eota_posix_now_ms64();
    assert_int_equal(sup_stop(&f->t, pid, 300), 1);
    uint64_t took = eota_posix_now_ms64() - t0;
    assert_true(took >= 300 && took < 3000);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(f->s.exits, 0);
}

static void test_reap_all_dispatches_by_table(void **state)
{
    (void)state;
    sup_table a, b;
    sup_init(&a, 2);
    sup_init(&b, 2);
    seen sa = {0}, sb = {0};
    pid_t pa = spawn_in(&a, &sa, "exit 1", 0);
    pid_t pb = spawn_in(&b, &sb, "exit 2", 0);
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

/* The stop begins and returns at once; the deadline kills a child that
 * ignores SIGTERM, and it is reaped through the hooks (issue 18). */
static void test_stop_begin_does_not_wait(void **state)
{
    fx *f = *state;
    pid_t pid = spawn_ignoring_sigterm(f);
    uint64_t t0 = eota_posix_now_ms64();
    assert_int_equal(sup_stop_begin(&f->t, pid, 300), 0);
    assert_true(eota_posix_now_ms64() - t0 < 100);
    assert_int_equal(sup_stop_begin(&f->t, pid + 100000, 300), -1);
    long left = sup_next_timeout_ms(&f->t);
    assert_true(left > 0 && left <= 300);
    sleep_ms(350);
    sup_check_timeouts(&f->t);
    assert_int_equal(f->s.timeouts, 1);
    reap_until(f, 1);
    assert_true(WIFSIGNALED(f->s.status) && WTERMSIG(f->s.status) == SIGKILL);
    assert_int_equal(sup_running(&f->t), 0);
}

/* A child of a process that is killed with SIGKILL dies with it. */
static void test_child_dies_with_its_parent(void **state)
{
    fx *f = *state;
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) {
        char script[256];
        snprintf(script, sizeof script, "echo $$ > %s.tmp && mv %s.tmp %s; exec sleep 30", f->path, f->path,
                 f->path);
        char *argv[] = {"sh", "-c", script, NULL};
        sup_spec spec = {"/bin/sh", argv, NULL, 0, 0, NULL, {NULL, NULL, NULL}};
        sup_spawn(&f->t, &spec);
        for (;;)
            pause();
    }
    struct stat st;
    for (int i = 0; i < 500 && stat(f->path, &st) != 0; i++)
        sleep_ms(10);
    pid_t child = read_pid(f->path);
    kill(parent, SIGKILL);
    waitpid(parent, NULL, 0);
    int gone = background_gone(child);
    if (!gone)
        kill(child, SIGKILL);
    assert_true(gone);
}

/* The descendants of a child: its own children and one that left its
 * group and session with setsid; a start time names one process. */
static void test_descendants_include_setsid(void **state)
{
    fx *f = *state;
    char script[384];
    snprintf(script, sizeof script,
             "sleep 30 & setsid sh -c 'echo $$ > %s.tmp && mv %s.tmp %s; exec sleep 30' & wait", f->path, f->path,
             f->path);
    pid_t pid = spawn_sh(f, script, 0);
    struct stat st;
    for (int i = 0; i < 500 && stat(f->path, &st) != 0; i++)
        sleep_ms(10);
    pid_t loner = read_pid(f->path);
    proc_id kin[8];
    size_t n = proc_descendants(pid, kin, 8);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found += kin[i].pid == loner && kin[i].start == proc_start_time(loner);
    assert_int_equal(found, 1);
    assert_true(n >= 2);
    proc_signal_all(kin, n, SIGKILL);
    assert_true(background_gone(loner));
    assert_int_equal(sup_stop(&f->t, pid, 1000), 0);
    assert_int_equal(proc_start_time(pid), 0);
}

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_true_is_reaped_with_its_status),
        FX_TEST(test_environment_group_and_mask),
        FX_TEST(test_exec_failure_exits_127),
        FX_TEST(test_full_table_starts_nothing),
        FX_TEST(test_deadline_kills_the_group),
        FX_TEST(test_stop_with_sigterm),
        FX_TEST(test_stop_kills_a_child_ignoring_sigterm),
        cmocka_unit_test(test_reap_all_dispatches_by_table),
        FX_TEST(test_stop_begin_does_not_wait),
        FX_TEST(test_child_dies_with_its_parent),
        FX_TEST(test_descendants_include_setsid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
