/*
 * app.c: the application of `eota device` (app.h): its command line with
 * {image} replaced, its EOTA_* environment, started, watched and stopped
 * through the supervisor.
 */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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
    (void)pid;
    a->pid = 0;
    if (WIFEXITED(status))
        LOGW("app", "The application exited with status %d: rebooting", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        LOGW("app", "The application was killed by signal %d: rebooting", WTERMSIG(status));
    a->ended = 1;
}

static void launch_app(dev_app *a, launch *l, char slot)
{
    if (prepare_launch(l, a->cfg, slot) != 0) {
        LOGE("app", "cannot start the application: %s", strerror(ENOMEM));
        return;
    }
    sup_spec spec = {NULL, l->argv, l->env, l->nenv, 0, "eota device", {app_exited, NULL, a}};
    pid_t pid = sup_spawn(&a->procs, &spec);
    if (pid <= 0) {
        LOGE("app", "cannot start the application: %s", pid < 0 ? strerror(errno) : "it runs already");
        return;
    }
    a->pid = pid;
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
    LOGI("app", "Stopping the application (pid %d)", (int)a->pid);
    if (sup_stop(&a->procs, a->pid, a->cfg->app.stop_timeout_ms) == 1)
        LOGW("app", "The application did not stop within %u ms: killing it", a->cfg->app.stop_timeout_ms);
    a->pid = 0;
}

int dev_app_ended(dev_app *a)
{
    int ended = a->ended;
    a->ended = 0;
    return ended;
}
