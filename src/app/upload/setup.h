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

/* The Noise encryption keys (keys.c): the current one (--key, --key-file,
 * EOTA_KEY, the config's ota: then api: encryption: key) and the previous
 * ones. 0 or -1 (printed: where a malformed key came from, and why). */
int up_setup_keys(up_run *r);

/* Decode a base64 key: 0, or -1 with the reason in why. */
int up_key_decode(const char *text, uint8_t key[UP_KEY_LEN], char *why, size_t whylen);

/* Wipe the keys. */
void up_keys_free(up_run *r);

/* The devices (--device, --devices-from, else the config's NAME.local), a
 * job each. -1 to go on, or the exit code. */
int up_setup_jobs(up_run *r);

#endif
