/*
 * automation.h: the automations of `eota device`: the config's OTA
 * triggers (on_begin, on_progress, on_end, on_abort, on_error,
 * on_state_change), esphome's on_boot and safe_mode's on_safe_mode, with
 * their logger.log, shell, ota.set_auth_password and ota.http_request.flash
 * actions.
 *
 * Nothing here blocks the caller: shell actions run in the background as
 * children of the automations' own supervisor table (supervisor.h); the
 * device reaps them and kills those past their timeout from its loop.
 */
#ifndef EOTA_APP_DEVICE_AUTOMATION_H
#define EOTA_APP_DEVICE_AUTOMATION_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "eota/events.h"
#include "supervisor.h"

/* The values an action can use: `x` and `state`, as in ESPHome lambdas. */
typedef struct dev_auto_vars {
    const char *trigger;  /* "on_begin", "on_progress", ... */
    double x;             /* progress percent (on_progress), error code (on_error) */
    int x_is_int;
    int state;            /* eota_state */
    uint8_t code;         /* response code, for errors */
    const char *device;   /* device name */
} dev_auto_vars;

/* ota.set_auth_password: the device changes the engine's password (from
 * the next connection on). Returns 0, or -1 when it cannot be set. */
typedef int (*dev_set_password_fn)(void *ctx, const char *password);

typedef struct dev_automations {
    sup_table shells;   /* shell actions still running */
    const char *device; /* the device's name, for EOTA_DEVICE */
    int last_state;     /* of the last event, for on_state_change; -1: none */
    const char *ota_id; /* the ota: entry's id, which set_auth_password names */
    dev_set_password_fn set_password; /* NULL: the action is logged, not done */
    void *set_password_ctx;
    /* ota.http_request.flash (src/app/pull): NULL: logged, not done */
    int (*flash)(void *ctx, const eota_action *act);
    void *flash_ctx;
} dev_automations;

/* The environment of a shell action: EOTA_TRIGGER, EOTA_X, EOTA_STATE,
 * EOTA_STATE_CODE, EOTA_ERROR_CODE, EOTA_ERROR_NAME, EOTA_DEVICE. */
#define DEV_SHELL_ENV_COUNT 7
typedef struct dev_shell_env {
    char *entry[DEV_SHELL_ENV_COUNT]; /* "NAME=value", pointing into buf */
    char buf[512];
} dev_shell_env;

void dev_automations_init(dev_automations *a, const char *device);

/* Run the ota: block's automations for an engine event: the event's own
 * trigger, then on_state_change when the state changed (or is not
 * IN_PROGRESS, which repeats). */
void dev_automations_event(dev_automations *a, const eota_ota_config *ota, const eota_event *ev);

/* Run one automation's actions with these values. */
void dev_automation_run(dev_automations *a, const eota_automation *au, const dev_auto_vars *v);

/* Fill in a shell action's environment. Returns 0, or -1 when a value did
 * not fit (the device name is at most 63 characters: it always fits). */
int dev_shell_env_build(dev_shell_env *e, const dev_auto_vars *v);

/* Format a logger.log action with `x`/`state` arguments into out. Returns
 * 0, or -1 when the format and arguments do not agree (out then holds an
 * explanation). */
int dev_automation_format(char *out, size_t outlen, const char *fmt, char *const *args, size_t nargs,
                          const dev_auto_vars *v);

#endif
