/*
 * automation.h: runs the OTA automations of the config (logger.log and
 * shell actions) for an event, without ever blocking the caller: shell
 * commands run in the background and are reaped (or killed at their
 * timeout) from the device's main loop.
 */
#ifndef EOTA_APP_AUTOMATION_H
#define EOTA_APP_AUTOMATION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* The values an action can use: `x` and `state`, as in ESPHome lambdas. */
typedef struct eota_auto_vars {
    const char *trigger;  /* "on_begin", "on_progress", ... */
    double x;             /* progress percent (on_progress), error code (on_error) */
    int x_is_int;
    int state;            /* eota_state */
    uint8_t code;         /* response code, for errors */
    const char *device;   /* device name */
} eota_auto_vars;

#define EOTA_MAX_CHILDREN 32

typedef struct eota_children {
    pid_t pid[EOTA_MAX_CHILDREN];
    uint64_t deadline_ms[EOTA_MAX_CHILDREN];
    size_t dropped; /* commands not started: too many running */
} eota_children;

void eota_automation_run(const eota_automation *a, const eota_auto_vars *v, eota_children *kids);
/* Reap finished commands and kill those past their timeout. Returns true
 * when pid was one of ours (then it is reaped). */
int eota_children_reap(eota_children *kids, pid_t pid, int status);
void eota_children_check_timeouts(eota_children *kids);
/* Milliseconds until the next command timeout, or -1. */
long eota_children_next_timeout(const eota_children *kids);

/* Format a logger.log action with `x`/`state` arguments into out. Exposed
 * for tests. Returns 0, or -1 when the format and arguments do not agree
 * (out then holds an explanation). */
int eota_automation_format(char *out, size_t outlen, const char *fmt, char *const *args, size_t nargs,
                           const eota_auto_vars *v);

#endif
