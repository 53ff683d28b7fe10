/*
 * setup.h: what the options of `eota upload` mean together, settled in
 * this order (the order of the error messages): the firmware or the
 * config, and with it the transport (setup.c); the passwords
 * (passwords.c); the devices, one job each (setup.c). Each step prints its
 * own errors.
 */
#ifndef EOTA_APP_UPLOAD_SETUP_H
#define EOTA_APP_UPLOAD_SETUP_H

#include "upload/run.h"

/* FIRMWARE, or CONFIG.yaml with --file or ESPHome's build output; the
 * transport (--ota-platform, else what the config's ota: has). 0 or -1. */
int up_setup_source(up_run *r);

/* The current password (--password, --password-file, EOTA_PASSWORD, the
 * config's) and the previous ones. 0 or -1. */
int up_setup_passwords(up_run *r);

/* Wipe and free the passwords. */
void up_passwords_free(up_run *r);

/* The devices (--device, --devices-from, else the config's NAME.local), a
 * job each. -1 to go on, or the exit code. */
int up_setup_jobs(up_run *r);

#endif
