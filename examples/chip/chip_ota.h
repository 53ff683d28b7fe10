/*
 * chip_ota.h: the application's side: the OTA engine writing uploads into
 * the inactive slot (the flash slot store, eota/flash_backend.h), and safe
 * mode (eota/safemode.h) confirming a good boot or ending safe mode. Called
 * from the application's main loop; it never blocks.
 *
 * Memory: everything is in the chip_ota struct the caller owns (no heap):
 * the engine, the boot state, safe mode, the slot store, a staging buffer
 * of CHIP_OTA_STAGE bytes (the unit the store programs) and the engine's
 * transfer buffer of CHIP_OTA_XFER bytes. scripts/qemu_golden.sh prints the
 * sizes for the Cortex-M0+.
 */
#ifndef CHIP_OTA_H
#define CHIP_OTA_H

#include <stdint.h>

#include "eota/bootstate.h"
#include "eota/flash_backend.h"
#include "eota/safemode.h"
#include "eota/server.h"

#ifndef CHIP_OTA_XFER
#define CHIP_OTA_XFER 1024u  /* bytes read from the network at a time */
#endif
#ifndef CHIP_OTA_STAGE
#define CHIP_OTA_STAGE 256u  /* a multiple of CHIP_FLASH_ALIGN */
#endif

typedef struct chip_ota {
    eota_bootstate bs;
    eota_safe_mode sm;
    eota_flash_backend store;
    eota_server srv;
    eota_clock clock;
    uint8_t stage[CHIP_OTA_STAGE];
    uint8_t xfer[CHIP_OTA_XFER];
} chip_ota;

typedef enum chip_ota_action {
    CHIP_OTA_RUN = 0,    /* go on */
    CHIP_OTA_REBOOT = 1  /* reset now: a new image is installed, or safe mode is over */
} chip_ota_action;

/* Start for this boot: d is the bootloader's decision (board_handoff_read),
 * password the OTA password ("" or NULL: none), not copied: the engine
 * refers to it, so it must outlive the engine (a literal, or static
 * memory). EOTA_OK or a status. */
int chip_ota_start(chip_ota *o, eota_flash flash, const eota_boot_decision *d, const char *password);

/* One turn: take a new client, serve the current one, run the safe-mode
 * timers. Call it from every turn of the main loop. */
chip_ota_action chip_ota_poll(chip_ota *o);

/* 1 when this boot runs in safe mode: start only the network and OTA. */
int chip_ota_safe_mode(const chip_ota *o);

#endif
