/*
 * eota/flash.h: the NOR flash seam, where the boot state (eota/bootstate.h)
 * and the image slots (eota/flash_backend.h) live. The rules are those of a
 * NOR flash, and every implementation must enforce them, so that code that
 * passes on the simulator (src/port/simflash, for tests) or on a file
 * (eota/fileflash.h) also works on a chip:
 *
 * - erase works on whole sectors; it sets every byte of the sector to the
 *   erased value (0xFF on most parts, 0x00 on some);
 * - program writes only bytes that are erased, and only once between two
 *   erases of their sector, even when the value written is the erased value;
 * - program addresses and lengths are multiples of the write alignment
 *   (1 to 32 bytes, a power of two), and one program stays in one sector;
 * - read has no alignment rule.
 *
 * Sectors may have different sizes on one flash (a few small ones followed by
 * big ones, as on many microcontrollers): ask `sector` for the one holding an
 * address. Addresses are offsets from the start of the flash device (or of
 * the partition it stands for).
 */
#ifndef EOTA_FLASH_H
#define EOTA_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "eota/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest write alignment the core supports, in bytes. */
#define EOTA_FLASH_MAX_ALIGN 32u

typedef struct eota_flash_info {
    uint32_t size;        /* bytes addressable: 0 .. size-1 */
    uint32_t write_align; /* program granularity: 1, 2, 4, 8, 16 or 32 */
    uint8_t erased;       /* value of an erased byte: 0xFF or 0x00 */
} eota_flash_info;

typedef struct eota_flash_ops {
    /* Copy len bytes at addr into buf. EOTA_OK, EOTA_EINVAL (out of range)
     * or EOTA_EIO. */
    int (*read)(void *ctx, uint32_t addr, void *buf, size_t len);
    /* Program len bytes at addr (aligned, erased, within one sector).
     * EOTA_OK, EOTA_EINVAL (a rule broken: nothing written) or EOTA_EIO. */
    int (*program)(void *ctx, uint32_t addr, const void *data, size_t len);
    /* Erase the sector that starts at addr. EOTA_OK, EOTA_EINVAL (addr is
     * not the start of a sector) or EOTA_EIO. */
    int (*erase)(void *ctx, uint32_t addr);
    /* The sector holding addr: its start and size. EOTA_OK or EOTA_EINVAL. */
    int (*sector)(void *ctx, uint32_t addr, uint32_t *start, uint32_t *size);
    /* Size, alignment, erased value. Constant for the life of the flash. */
    void (*info)(void *ctx, eota_flash_info *out);
} eota_flash_ops;

typedef struct eota_flash {
    const eota_flash_ops *ops;
    void *ctx;
} eota_flash;

/* --- helpers over the seam (src/core/flash.c) --- */

/* EOTA_OK when [addr, addr+len) starts and ends on sector boundaries and
 * lies inside the flash; EOTA_EINVAL otherwise. */
int eota_flash_check_region(const eota_flash *f, uint32_t addr, uint32_t len);

/* Erase every sector of [addr, addr+len), a sector-aligned region. */
int eota_flash_erase_region(const eota_flash *f, uint32_t addr, uint32_t len);

/* *erased = 1 when every byte of [addr, addr+len) reads as the erased
 * value, else 0. EOTA_OK or the read's error. */
int eota_flash_is_erased(const eota_flash *f, uint32_t addr, uint32_t len, int *erased);

/* CRC-32 (eota/crc32.h) of the len bytes at addr, read in small pieces. */
int eota_flash_crc32(const eota_flash *f, uint32_t addr, uint32_t len, uint32_t *crc);

#ifdef __cplusplus
}
#endif

#endif
