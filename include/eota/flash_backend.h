/*
 * eota/flash_backend.h: the slot store (eota/slotstore.h) over a NOR flash
 * (eota/flash.h) whose slot regions the boot state knows
 * (eota_bootstate_config.slot): the one call a chip makes for its storage
 * backend, and the flash medium under it.
 *
 * The flash medium:
 *   open    nothing to erase yet: sectors are erased one at a time, just
 *           before the first program into them (erase-ahead)
 *   write   bytes gathered in the caller's staging buffer and programmed a
 *           buffer at a time
 *   finish  the tail padded to the write alignment with the erased value,
 *           and programmed
 *   verify  the slot read back and its CRC-32 compared with that of the
 *           bytes received (a mismatch is EOTA_EWRITE, a failed read
 *           EOTA_EVERIFY)
 *   discard nothing to undo: the slot stays EMPTY in the boot state
 *
 * Raw images only (no gzip, no partition table or bootloader types). A
 * failed program or erase is EOTA_EWRITE; the flash's own error is kept
 * (eota_flash_medium_error). No allocation; the caller owns the structs and
 * the staging buffer.
 */
#ifndef EOTA_FLASH_BACKEND_H
#define EOTA_FLASH_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "eota/private_access.h"
#include "eota/backend.h"
#include "eota/bootstate.h"
#include "eota/slotstore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Private state (EOTA_PRIVATE): read it through the functions. */
typedef struct eota_flash_medium {
    eota_bootstate *EOTA_PRIVATE(bs);      /* the flash and the slot regions */
    uint8_t *EOTA_PRIVATE(stage);          /* staging buffer: a multiple of the write
                                alignment */
    size_t EOTA_PRIVATE(stage_size);
    size_t EOTA_PRIVATE(stage_len);
    uint32_t EOTA_PRIVATE(base);           /* the slot's flash address */
    uint32_t EOTA_PRIVATE(programmed);     /* bytes of the slot programmed */
    uint32_t EOTA_PRIVATE(erased_to);      /* bytes of the slot erased */
    int EOTA_PRIVATE(flash_status);        /* error of the last failed flash call, or EOTA_OK */
} eota_flash_medium;

/* bs must be open, with both slot regions on its flash, and outlive m.
 * EOTA_OK, or EOTA_EINVAL (no slot regions, or a staging buffer that is not
 * a non-zero multiple of the write alignment). */
int eota_flash_medium_init(eota_flash_medium *m, eota_bootstate *bs, uint8_t *stage, size_t stage_size);
eota_slot_medium eota_flash_medium_seam(eota_flash_medium *m);
/* The error of the last failed flash call (read, program, erase), or EOTA_OK. */
int eota_flash_medium_error(const eota_flash_medium *m);

/* The slot store over the flash medium. */
typedef struct eota_flash_backend {
    eota_slotstore EOTA_PRIVATE(store);
    eota_flash_medium EOTA_PRIVATE(medium);
} eota_flash_backend;

/* Both in one call: eota_flash_medium_init, then the store over it with
 * the core's CRC-32 and exact sizes. EOTA_OK or EOTA_EINVAL. */
int eota_flash_backend_init(eota_flash_backend *fb, eota_bootstate *bs, uint8_t *stage, size_t stage_size);
eota_backend eota_flash_backend_seam(eota_flash_backend *fb);

#ifdef __cplusplus
}
#endif

#endif
