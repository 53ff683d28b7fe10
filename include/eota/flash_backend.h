/*
 * eota/flash_backend.h: a storage backend (eota/backend.h) for the OTA
 * engine that writes the image into the inactive slot of a NOR flash
 * (eota/flash.h) and records it in the boot state (eota/bootstate.h):
 *
 *   begin  target = eota_bootstate_target; the image must fit the slot;
 *          eota_bootstate_prepare (the slot no longer counts as bootable)
 *   write  bytes gathered in the caller's staging buffer and programmed a
 *          buffer at a time; each sector is erased just before the first
 *          program into it (erase-ahead)
 *   end    the tail padded to the write alignment with the erased value and
 *          programmed; the slot read back and its CRC-32 compared with that
 *          of the bytes received; eota_bootstate_install (NEW: the next boot
 *          runs it on trial)
 *   abort  nothing to undo: the slot stays EMPTY in the boot state
 *
 * Raw images only (no gzip, no partition table or bootloader types).
 * Failures are eota_status values (EOTA_ETOOBIG when the image does not fit
 * the slot, EOTA_ENOSLOT, EOTA_EUNSUPPORTED, EOTA_EPREPARE, EOTA_EWRITE,
 * EOTA_EVERIFY, EOTA_ECOMMIT, EOTA_EINVAL out of order); flash_status keeps
 * the flash's own error.
 * No allocation; the caller owns the struct and the staging buffer.
 */
#ifndef EOTA_FLASH_BACKEND_H
#define EOTA_FLASH_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "eota/backend.h"
#include "eota/bootstate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_flash_backend {
    eota_bootstate *bs;
    uint8_t *stage;          /* staging buffer (a page): a multiple of the
                                write alignment */
    size_t stage_size;

    /* state, read by tests */
    uint8_t begun;
    int slot;                /* slot being written, or -1 */
    uint32_t base;           /* its flash address */
    uint32_t capacity;       /* its size */
    uint32_t size;           /* bytes announced */
    uint32_t taken;          /* bytes taken so far */
    uint32_t programmed;     /* bytes of the slot programmed */
    uint32_t erased_to;      /* bytes of the slot erased */
    size_t stage_len;
    uint32_t crc;            /* CRC-32 of the bytes taken */
    int flash_status;        /* error of the last failed flash call, or EOTA_OK */
    unsigned installs;       /* images installed */
} eota_flash_backend;

/* bs must be open, with slot regions on its flash, and outlive fb.
 * EOTA_OK, or EOTA_EINVAL (no slot regions, or a staging buffer that is not
 * a non-zero multiple of the write alignment). */
int eota_flash_backend_init(eota_flash_backend *fb, eota_bootstate *bs, uint8_t *stage, size_t stage_size);
eota_backend eota_flash_backend_seam(eota_flash_backend *fb);

#ifdef __cplusplus
}
#endif

#endif
