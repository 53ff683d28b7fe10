/*
 * eota/slotstore.h: the one install path of an image into the A/B slots of
 * the boot state (eota/bootstate.h), as a storage backend (eota/backend.h),
 * whatever holds the slots' bytes. Below it, a small medium seam says where
 * the bytes go: NOR flash regions on a chip (eota/flash_backend.h), files on
 * Linux (eota/filestore.h).
 *
 *   begin  application images only (EOTA_EUNSUPPORTED); the target is
 *          eota_bootstate_target (the slot that is not running); the image
 *          must fit the medium's slot (EOTA_ETOOBIG before anything is
 *          written; when gzip was agreed the wire size does not bound the
 *          image, so the size is checked as bytes come);
 *          eota_bootstate_prepare (from here on no crash can boot a
 *          half-written slot: EOTA_EPREPARE); the medium opens the slot
 *   write  through the medium, which may take part; the CRC-32 of the bytes
 *          it took is kept for the boot state
 *   end    the medium finishes (may be pending: EOTA_AGAIN), then verifies
 *          (a read-back, when the medium has one); eota_bootstate_install
 *          with the size and CRC (NEW: the next boot runs it on trial)
 *   abort  the medium discards; the slot stays EMPTY in the boot state
 *
 * Failures are eota_status values with a detail (detail() of the backend):
 * the store's own sentence or the medium's. No allocation; the caller owns
 * the structs.
 */
#ifndef EOTA_SLOTSTORE_H
#define EOTA_SLOTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/private_access.h"
#include "eota/backend.h"
#include "eota/bootstate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a slot's bytes go. Every call reports an eota_status. */
typedef struct eota_slot_medium_ops {
    /* Bytes slot `slot` can hold; 0 when the medium has no such slot. */
    uint32_t (*capacity)(void *ctx, int slot);
    /* Get the slot ready to receive an image (it holds nothing bootable
     * already). EOTA_OK or a status (EOTA_EPREPARE ...). */
    int (*open)(void *ctx, int slot);
    /* EOTA_OK with *taken = 0..len, or a status (EOTA_EWRITE ...). */
    int (*write)(void *ctx, const uint8_t *data, size_t len, size_t *taken);
    /* Every byte given: make them durable. EOTA_OK, EOTA_AGAIN (call again
     * later; it must not block) or a status (EOTA_EWRITE, EOTA_ECOMMIT). */
    int (*finish)(void *ctx);
    /* Optional (NULL): check that the slot holds `size` bytes with this
     * CRC-32 (a read-back). EOTA_OK or a status (EOTA_EVERIFY ...). */
    int (*verify)(void *ctx, uint32_t size, uint32_t crc);
    /* Drop what was written since open; also after a failed finish. */
    void (*discard)(void *ctx);
    /* Optional (NULL): a sentence about the last failure, or NULL. */
    const char *(*why)(void *ctx);
} eota_slot_medium_ops;

typedef struct eota_slot_medium {
    const eota_slot_medium_ops *ops;
    void *ctx;
} eota_slot_medium;

/* CRC-32 as eota/crc32.h computes it (any implementation of the same
 * polynomial: the POSIX port passes zlib's, which is faster). */
typedef uint32_t (*eota_crc32_fn)(uint32_t crc, const void *data, size_t len);

typedef struct eota_slotstore_config {
    eota_bootstate *bs;       /* open; outlives the store */
    eota_slot_medium medium;
    eota_crc32_fn crc32;      /* NULL: eota_crc32 */
    /* 0: begin's size is exact; end refuses a shorter image (EOTA_EINVAL).
     * 1: begin's size is an upper bound (a web upload knows only the form's
     * length): end installs what arrived. */
    uint8_t size_is_bound;
} eota_slotstore_config;

/* Private state (EOTA_PRIVATE): read it through the functions. */
typedef struct eota_slotstore {
    eota_slotstore_config EOTA_PRIVATE(cfg);
    uint8_t EOTA_PRIVATE(phase);            /* idle, writing */
    uint8_t EOTA_PRIVATE(size_unknown);     /* gzip agreed: the wire size says nothing */
    int EOTA_PRIVATE(slot);                 /* slot being (or last) written, or -1 */
    uint32_t EOTA_PRIVATE(size);            /* bytes announced */
    uint32_t EOTA_PRIVATE(capacity);        /* the slot's */
    uint32_t EOTA_PRIVATE(taken);           /* bytes the medium took */
    uint32_t EOTA_PRIVATE(crc);             /* their CRC-32 */
    unsigned EOTA_PRIVATE(installs);        /* images installed */
    const char *EOTA_PRIVATE(why);          /* detail of the last failure, or NULL */
    int EOTA_PRIVATE(boot_error);           /* the boot state's status when it failed */
} eota_slotstore;

/* EOTA_OK, or EOTA_EINVAL (no boot state, or a medium without one of
 * capacity/open/write/finish/discard). */
int eota_slotstore_init(eota_slotstore *s, const eota_slotstore_config *cfg);
eota_backend eota_slotstore_seam(eota_slotstore *s);
/* The slot the current (or last) upload went to, or -1. */
int eota_slotstore_slot(const eota_slotstore *s);
/* Images installed since init. */
unsigned eota_slotstore_installs(const eota_slotstore *s);
/* When the upload failed because the boot state could not be written
 * (prepare or install): the boot state's own status; else EOTA_OK. */
int eota_slotstore_boot_error(const eota_slotstore *s);

#ifdef __cplusplus
}
#endif

#endif
