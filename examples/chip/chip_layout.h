/*
 * chip_layout.h: the chip this example is written for, and where everything
 * lives in its flash: the counterpart of MCUboot's sysflash.h / flash map.
 *
 * The chip: an STM32G0-class part (Cortex-M0+): 128 KiB of internal flash
 * mapped at 0x08000000, erased in 2 KiB pages to 0xFF, programmed one 64-bit
 * double word at a time (so the write alignment is 8).
 *
 * Flash map (offsets from CHIP_FLASH_BASE, whole pages):
 *
 *   0x00000  16 KiB  the second-stage bootloader (boot_main.c)
 *   0x04000   2 KiB  boot state, copy 0  \  eota/bootstate.h: two records with
 *   0x04800   2 KiB  boot state, copy 1  /  their boot counters, never both
 *                                          erased at once
 *   0x05000  54 KiB  slot A (an application image)
 *   0x12800  54 KiB  slot B
 *
 * The application is linked to run from the slot it is in (or the build makes
 * two images, one per slot, as ESP-IDF and MCUboot's direct-XIP mode do);
 * an upload always goes to the slot that is not running.
 */
#ifndef CHIP_LAYOUT_H
#define CHIP_LAYOUT_H

#include <stdint.h>

#include "eota/bootstate.h"

#define CHIP_FLASH_BASE 0x08000000u /* where the flash is mapped */
#define CHIP_FLASH_SIZE 0x20000u    /* 128 KiB */
#define CHIP_FLASH_PAGE 0x800u      /* erase unit: 2 KiB */
#define CHIP_FLASH_ALIGN 8u         /* program unit: a double word */
#define CHIP_FLASH_ERASED 0xFFu

#define CHIP_BOOTLOADER_SIZE 0x4000u
#define CHIP_BOOTSTATE_COPY0 0x4000u
#define CHIP_BOOTSTATE_COPY1 0x4800u
#define CHIP_SLOT_A 0x5000u
#define CHIP_SLOT_B 0x12800u
#define CHIP_SLOT_SIZE 0xD800u      /* 54 KiB: the largest image */

/* The boot state's configuration over the chip's flash: the two copies, the
 * two slots, and a CRC check of an image before it is booted. The bootloader
 * and the application must use the same one. */
void chip_bootstate_config(eota_bootstate_config *cfg, eota_flash flash);

/* The safe_mode: keys (PROTOCOL.md section 8), the same on both sides:
 * here the stock defaults (10 attempts, 5 min, 1 min). */
void chip_safe_mode_config(eota_safe_mode_config *c);

/* The address the CPU starts a slot's image from. */
uint32_t chip_slot_entry(int slot);

#endif
