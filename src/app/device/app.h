/*
 * app.h: the application of `eota device` (the config's `app:` block): run
 * from the active slot as a child process (supervisor.h), stopped at a
 * reboot or a shutdown. An application that ends by itself makes the device
 * reboot, as a crashing firmware would.
 */
#ifndef EOTA_APP_DEVICE_APP_H
#define EOTA_APP_DEVICE_APP_H

#include <sys/types.h>

#include "config/config.h"
#include "slots.h"
#include "supervisor.h"

typedef struct dev_app {
    sup_table procs; /* the application, while it runs */
    pid_t pid;       /* 0 when none runs */
    int ended;       /* it ended by itself: the device is to reboot */
    const eota_config *cfg;
} dev_app;

void dev_app_init(dev_app *a, const eota_config *cfg);

/* Start the application on the active slot's image (nothing without an
 * app: block; a warning without an image). Failures are logged. */
void dev_app_start(dev_app *a, const eota_slots *slots);

/* Stop it, if it runs: SIGTERM, then SIGKILL after app: stop_timeout. */
void dev_app_stop(dev_app *a);

/* True once after the application ended by itself (reaped through the
 * supervisor, its end logged). */
int dev_app_ended(dev_app *a);

#endif
