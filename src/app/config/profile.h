/*
 * profile.h: the platform profiles. A platform block of the config (host:,
 * esp32:, ...) makes `eota device` look like that platform on the wire and
 * on the web; every difference between platforms is a field here, so that
 * no code has to test a platform's name.
 */
#ifndef EOTA_APP_CONFIG_PROFILE_H
#define EOTA_APP_CONFIG_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The values and where they come from are documented at the table in
 * profile.c and in docs/config.md. */
typedef struct eota_profile {
    const char *platform;  /* the block's key: "esp32", "host", ... */
    uint16_t port;         /* default native OTA port (PROTOCOL.md section 7) */
    uint32_t slot_size;    /* largest image a slot takes, in bytes */
    bool gzip;             /* the device offers gzip (46 / server bit 0x01) */
    uint8_t too_big_code;  /* response byte for "image does not fit" */
    bool ack_after_write;  /* a block is acknowledged once written, as stock
                              firmware does (false: on arrival, host:) */
    uint16_t default_web_port; /* web_server: port: when not given */
} eota_profile;

/* The profile of a platform block name, or NULL when there is none. */
const eota_profile *eota_profile_find(const char *platform);
/* The whole table (for --help texts and tests); *count receives its size. */
const eota_profile *eota_profile_table(size_t *count);

#endif
