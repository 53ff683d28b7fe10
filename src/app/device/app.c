/*
 * app.c: the application of `eota device` (app.h): its command line with
 * {image} replaced, its EOTA_* environment, started, watched and stopped
 * through the supervisor, with its process group and descendants, and its
 * app.pid in the state directory.
 */
#include "app.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define APP_BASE_ENV 3 /* EOTA_IMAGE, EOTA_SLOT, EOTA_DEVICE */

/* What the application is started with; freed by free_launch. */
typedef struct launch {
    char image[4096];
    char **argv;
    char **env;
    size_t nenv;
    char image_env[4096 + 16], slot_env[16], device_env[96];
} launch;

void dev_app_init(dev_app *a, const eota_config *cfg)
{
    memset(a, 0, sizeof *a);
    sup_init(&a->procs, 1);
    a->cfg = cfg;
    /* what the application leaves behind is reparented to the device */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        LOGW("app", "cannot become a child subreaper: %s", strerror(errno));
}

/* What a previous run of the device left (it was killed before it could
 * stop its application): the process app.pid names, if it is still that
 * process (same start time), with its group and descendants; or what is
 * left of its group when it is gone. */
static void stop_leftover(const char *pidfile)
{
    FILE *f = fopen(pidfile, "re");
    if (!f)
        return;
    int pid = 0;
    unsigned long long start = 0;
    int ok = fscanf(f, "%d %llu", &pid, &start) == 2 && pid > 1;
    fclose(f);
    unsigned long long now = ok ? proc_start_time(pid) : 0;
    if (ok && now == start) {
        LOGW("app", "The application of a previous run (pid %d) still runs: stopping it first", pid);
        proc_id kin[DEV_APP_MAX_KIN];
        size_t n = proc_descendants(pid, kin, DEV_APP_MAX_KIN);
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        proc_signal_all(kin, n, SIGKILL);
    } else if (ok && now == 0 && kill(-pid, SIGKILL) == 0) {
        LOGW("app", "Stopped what was left of the application of a previous run (process group %d)", pid);
    }
    unlink(pidfile);
}

static void record_pid(dev_app *a)
{
    FILE *f = fopen(a->pidfile, "we");
    int bad = !f;
    if (f) {
        bad |= fprintf(f, "%d %llu\n", (int)a->pid, proc_start_time(a->pid)) < 0;
        bad |= fclose(f) != 0;
    }
    if (bad) {
        LOGW("app", "cannot record the application's pid in %s: %s", a->pidfile, strerror(errno));
        a->pidfile[0] = '\0';
    }
}

/* What an application left to the device (the subreaper): children of
 * the device whose environment has an EOTA_IMAGE in the state directory, a
 * daemon whose parent has ended, say; added to a->kin. */
static void add_orphans(dev_app *a)
{
    if (!a->image_entry[0])
        return;
    proc_id orphans[DEV_APP_MAX_KIN];
    size_t n = proc_children_with_env(getpid(), a->image_entry, orphans, DEV_APP_MAX_KIN);
    for (size_t i = 0; i < n && a->nkin < DEV_APP_MAX_KIN; i++)
        if (orphans[i].pid != a->pid)
            a->kin[a->nkin++] = orphans[i];
}

/* The application has ended (reaped): what is left of its group, and of
 * the descendants it had when its stop began (or left to the device),
 * goes with it. */
static void clear_leftovers(dev_app *a, pid_t pid)
{
    kill(-pid, SIGKILL);
    add_orphans(a);
    proc_signal_all(a->kin, a->nkin, SIGKILL);
    a->nkin = 0;
    if (a->pidfile[0])
        unlink(a->pidfile);
    a->pidfile[0] = '\0';
    a->pid = 0;
}

/* The descendants as the stop begins (the tree is whole yet), and what it
 * left to the device, get SIGTERM (the group gets it from the supervisor). */
static void begin_stop(dev_app *a)
{
    LOGI("app", "Stopping the application (pid %d)", (int)a->pid);
    a->nkin = proc_descendants(a->pid, a->kin, DEV_APP_MAX_KIN);
    add_orphans(a);
    proc_signal_all(a->kin, a->nkin, SIGTERM);
}

static char *replace_image(const char *arg, const char *image)
{
    const char *pat = "{image}";
    size_t count = 0;
    for (const char *p = strstr(arg, pat); p; p = strstr(p + 7, pat))
        count++;
    size_t len = strlen(arg) + count * strlen(image) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = arg; *p;) {
        if (!strncmp(p, pat, 7)) {
            o = stpcpy(o, image);
            p += 7;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void free_launch(launch *l, size_t argc)
{
    if (l->argv)
        for (size_t i = 0; i < argc; i++)
            free(l->argv[i]);
    free(l->argv);
    free(l->env);
}

/* argv with {image} replaced, and the environment: EOTA_* first, then the
 * app: block's env: entries (which may override them). 0, or -1 when
 * memory ran out. */
static int prepare_launch(launch *l, const eota_config *cfg, char slot)
{
    const eota_app_config *app = &cfg->app;
    l->argv = calloc(app->argc + 1, sizeof *l->argv);
    l->nenv = APP_BASE_ENV + app->nenv;
    l->env = calloc(l->nenv, sizeof *l->env);
    if (!l->argv || !l->env)
        return -1;
    for (size_t i = 0; i < app->argc; i++)
        if (!(l->argv[i] = replace_image(app->argv[i], l->image)))
            return -1;
    snprintf(l->image_env, sizeof l->image_env, "EOTA_IMAGE=%s", l->image);
    snprintf(l->slot_env, sizeof l->slot_env, "EOTA_SLOT=%c", slot);
    snprintf(l->device_env, sizeof l->device_env, "EOTA_DEVICE=%s", cfg->name);
    l->env[0] = l->image_env;
    l->env[1] = l->slot_env;
    l->env[2] = l->device_env;
    for (size_t i = 0; i < app->nenv; i++)
        l->env[APP_BASE_ENV + i] = app->env[i];
    return 0;
}

static void app_exited(void *ctx, pid_t pid, int status)
{
    dev_app *a = ctx;
    clear_leftovers(a, pid);
    if (a->stopping) {
        a->stopping = 0;
        if (a->then)
            a->then(a->then_ctx);
        return;
    }
    if (WIFEXITED(status))
        LOGW("app", "The application exited with status %d: rebooting", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        LOGW("app", "The application was killed by signal %d: rebooting", WTERMSIG(status));
    a->ended = 1;
}

static void app_timed_out(void *ctx, pid_t pid)
{
    dev_app *a = ctx;
    (void)pid;
    LOGW("app", "The application did not stop within %u ms: killing it", a->cfg->app.stop_timeout_ms);
    proc_signal_all(a->kin, a->nkin, SIGKILL);
}

static void launch_app(dev_app *a, launch *l, char slot)
{
    if (prepare_launch(l, a->cfg, slot) != 0) {
        LOGE("app", "cannot start the application: %s", strerror(ENOMEM));
        return;
    }
    sup_spec spec = {NULL, l->argv, l->env, l->nenv, 0, "eota device", {app_exited, app_timed_out, a}};
    pid_t pid = sup_spawn(&a->procs, &spec);
    if (pid <= 0) {
        LOGE("app", "cannot start the application: %s", pid < 0 ? strerror(errno) : "it runs already");
        return;
    }
    a->pid = pid;
    record_pid(a);
    LOGI("app", "Started the application from slot %c (pid %d): %s", slot, (int)pid, l->image);
}

void dev_app_start(dev_app *a, const eota_slots *slots)
{
    if (!a->cfg->app.present)
        return;
    if (!slots->active) {
        LOGW("app", "No image installed yet: waiting for an upload before starting the application");
        return;
    }
    snprintf(a->pidfile, sizeof a->pidfile, "%s/app.pid", slots->dir);
    snprintf(a->image_entry, sizeof a->image_entry, "EOTA_IMAGE=%s/", slots->dir);
    stop_leftover(a->pidfile);
    launch *l = calloc(1, sizeof *l);
    if (!l) {
        LOGE("app", "cannot start the application: %s", strerror(ENOMEM));
        return;
    }
    eota_slots_path(slots, slots->active, l->image, sizeof l->image);
    if (chmod(l->image, 0755) != 0)
        LOGW("app", "chmod %s: %s", l->image, strerror(errno));
    launch_app(a, l, slots->active);
    free_launch(l, a->cfg->app.argc);
    free(l);
}

void dev_app_stop(dev_app *a)
{
    if (a->pid <= 0)
        return;
    pid_t pid = a->pid;
    if (!a->stopping)
        begin_stop(a);
    if (sup_stop(&a->procs, pid, a->cfg->app.stop_timeout_ms) == 1)
        LOGW("app", "The application did not stop within %u ms: killing it", a->cfg->app.stop_timeout_ms);
    a->stopping = 0;
    clear_leftovers(a, pid);
}

int dev_app_stop_then(dev_app *a, void (*then)(void *ctx), void *ctx)
{
    if (a->pid <= 0)
        return 0;
    if (a->stopping)
        return 1;
    a->stopping = 1;
    a->then = then;
    a->then_ctx = ctx;
    begin_stop(a);
    sup_stop_begin(&a->procs, a->pid, a->cfg->app.stop_timeout_ms);
    return 1;
}

int dev_app_stopping(const dev_app *a) { return a->stopping; }

int dev_app_ended(dev_app *a)
{
    int ended = a->ended;
    a->ended = 0;
    return ended;
}
