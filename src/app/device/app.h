/*
 * app.h: the application of `eota device` (the config's `app:` block): run
 * from the active slot as a child process (supervisor.h), stopped at a
 * reboot or a shutdown. An application that ends by itself makes the device
 * reboot, as a crashing firmware would.
 *
 * The application is the device's and goes with it: it runs in a process
 * group of its own and dies with the device (PR_SET_PDEATHSIG); the device
 * is a child subreaper, so what the application leaves behind is reparented
 * to the device, not to init. Stopping it stops its group and every
 * descendant it has then (those that left the group with setsid too). Its
 * pid and start time are kept in app.pid in the state directory: a device
 * that starts after a SIGKILL stops what is left of the previous copy
 * before it starts its own. (A cgroup would hold a descendant that is
 * started after the stop began, or whose parent ended before it: not used;
 * the containers this runs in rarely give a writable cgroup v2.)
 */
#ifndef EOTA_APP_DEVICE_APP_H
#define EOTA_APP_DEVICE_APP_H

#include <sys/types.h>

#include "proctree.h"

#include "config/config.h"
#include "slots.h"
#include "supervisor.h"

#define DEV_APP_MAX_KIN 64

typedef struct dev_app {
    sup_table procs; /* the application, while it runs */
    pid_t pid;       /* 0 when none runs */
    int ended;       /* it ended by itself: the device is to reboot */
    const eota_config *cfg;
    int stopping;    /* dev_app_stop_then under way */
    void (*then)(void *ctx);
    void *then_ctx;
    proc_id kin[DEV_APP_MAX_KIN]; /* its descendants when the stop began */
    size_t nkin;
    char pidfile[4096]; /* STATE_DIR/app.pid while it runs; "" when none */
    char image_entry[4096 + 16]; /* "EOTA_IMAGE=STATE_DIR/", in its environment */
} dev_app;

void dev_app_init(dev_app *a, const eota_config *cfg);

/* Start the application on the active slot's image (nothing without an
 * app: block; a warning without an image). Failures are logged. */
void dev_app_start(dev_app *a, const eota_slots *slots);

/* Stop it, if it runs, and wait: SIGTERM, then SIGKILL after app:
 * stop_timeout (at a shutdown, when the poll loop is over). */
void dev_app_stop(dev_app *a);

/* Stop it without waiting: SIGTERM now, SIGKILL at the stop_timeout (the
 * poll loop's sup_check_timeouts on a->procs), and then(ctx) once it has
 * ended. Returns 1 when the stop began, 0 when nothing runs (then is not
 * called). While a stop is under way, dev_app_stopping is true. */
int dev_app_stop_then(dev_app *a, void (*then)(void *ctx), void *ctx);
int dev_app_stopping(const dev_app *a);

/* True once after the application ended by itself (reaped through the
 * supervisor, its end logged). */
int dev_app_ended(dev_app *a);

#endif
