/*
 * chip_boot.h: the second-stage bootloader's part: at every reset, read the
 * boot state, count the attempt, roll back an image whose trial failed, pick
 * the slot (or safe mode), and say where to start. All the decisions are the
 * core's (eota_boot, eota/bootstate.h); this is the chip's glue.
 */
#ifndef CHIP_BOOT_H
#define CHIP_BOOT_H

#include <stdint.h>

#include "eota/bootstate.h"
#include "eota/flash.h"

typedef struct chip_boot_choice {
    eota_boot_decision d;  /* handed to the application (board_handoff_write) */
    uint32_t entry;        /* address of the image to start; 0: none, recovery */
} chip_boot_choice;

/* Decide. EOTA_OK, or the status of a flash error: the choice then still
 * stands (an image, or recovery when the boot state cannot be read). */
int chip_boot_select(eota_flash flash, chip_boot_choice *out);

#endif
