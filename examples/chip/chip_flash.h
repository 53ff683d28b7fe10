/*
 * chip_flash.h: the chip's flash driver behind the eota flash seam
 * (eota/flash.h), with the geometry of chip_layout.h: the counterpart of
 * MCUboot's flash_map_backend.h.
 *
 * On the chip, a read is a copy from the memory-mapped flash, and program
 * and erase go through the flash controller (unlock, set PG or PER, write
 * the double words or the page number, wait for BSY to clear, check the
 * error flags). So that the example runs anywhere (the emulated Cortex-M of
 * scripts/qemu_golden.sh), the two controller operations work on a RAM
 * array, with the controller's rules: a double word is programmed only when
 * erased and only once between two erases (the ECC of the real part makes a
 * second program fail), a program never crosses a page.
 */
#ifndef CHIP_FLASH_H
#define CHIP_FLASH_H

#include <stdint.h>

#include "chip_layout.h"
#include "eota/flash.h"

typedef struct chip_flash {
    uint8_t *mem;   /* the flash contents: the mapped flash on the chip */
    /* the controller's record of programmed double words since their
     * page was erased (the chip's ECC state) */
    uint8_t programmed[CHIP_FLASH_SIZE / CHIP_FLASH_ALIGN / 8u];
    uint32_t programs, erases;   /* operations done */
} chip_flash;

/* mem: the CHIP_FLASH_SIZE bytes of the flash, which keep their contents
 * across a reset (a new part arrives erased: all CHIP_FLASH_ERASED). A
 * double word that does not read as erased counts as programmed. */
void chip_flash_init(chip_flash *f, uint8_t *mem);
eota_flash chip_flash_seam(chip_flash *f);

#endif
