/*
 * chip_board.h: what the board's SDK supplies to this example: the rest of
 * the port surface, beside the flash driver (chip_flash.c) and the flash map
 * (chip_layout.h). Each function is a few lines over the SDK: a timer, the
 * random number generator, the hash block or a crypto library, the TCP/IP
 * stack, a RAM word the bootloader and the application share, and the
 * jumps. tests/mcu/chip_main.c implements them for the emulated run.
 */
#ifndef CHIP_BOARD_H
#define CHIP_BOARD_H

#include <stdint.h>

#include "eota/bootstate.h"
#include "eota/clock.h"
#include "eota/crypto.h"
#include "eota/events.h"
#include "eota/random.h"
#include "eota/transport.h"

/* --- the engine's seams (eota/server.h) --- */

/* Milliseconds since boot: a SysTick counter (32 bits, wrapping is fine). */
eota_clock board_clock(void);
/* A CSPRNG: the chip's TRNG (the bytes become authentication nonces). */
eota_random board_random(void);
/* Incremental MD5 and SHA-256: the chip's hash accelerator, its ROM
 * routines, or a library such as Mbed TLS. One session at a time. */
eota_hash board_hash(void);
/* Non-blocking TCP: read/write that return EOTA_AGAIN instead of waiting
 * (lwIP's raw API with a small receive queue, or a socket in O_NONBLOCK). */
const eota_transport_ops *board_transport(void);
/* A client that connected to the OTA port (3232 by default) since the
 * last call, or NULL. */
void *board_accept(void);
/* Where the engine's events and log lines go (both callbacks optional). */
eota_events board_events(void);

/* --- the two programs --- */

/* The memory-mapped flash (CHIP_FLASH_BASE on the chip). */
uint8_t *board_flash_memory(void);
/* The bootloader's decision, kept for the application in a RAM area both
 * link (a .noinit section that no startup code clears). */
void board_handoff_write(const eota_boot_decision *d);
void board_handoff_read(eota_boot_decision *d);
/* Start the image at entry: set VTOR and the stack pointer from its vector
 * table, jump to its reset handler. Does not return. */
void board_start_image(uint32_t entry);
/* No bootable image: start the recovery program (a factory image that only
 * serves OTA), or wait for a serial download. Does not return. */
void board_start_recovery(void);
/* Reset the chip (NVIC_SystemReset). Does not return. */
void board_reset(void);

#endif
