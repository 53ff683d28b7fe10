/*
 * eota/bootstate.h: the boot state of a device with two image slots (A/B),
 * kept on NOR flash (eota/flash.h) so that a power cut at any instant leaves
 * a state from which the device boots the old image or the new one, never a
 * mix; plus the bootloader's decision at every boot (which slot, trial,
 * rollback, safe mode). Pure logic over the flash seam: no allocation, no
 * global state; the caller owns every struct. docs/bootstate.md has the
 * layout, the write orders and the state machine.
 *
 * Per slot: EMPTY -> (install) NEW -> (boot) TRIAL -> (confirm) VALID, or
 * TRIAL -> (a reboot before confirmation) INVALID and the other slot back.
 *
 * Bootloader, at every boot:
 *     eota_bootstate bs;
 *     eota_bootstate_open(&bs, &cfg);
 *     eota_boot(&bs, &safe_mode_cfg, &d);       counts the boot first
 *     run d.slot (safe mode when d.safe_mode), or OTA only when d.slot < 0
 * Application (see eota/safemode.h for the timers):
 *     eota_bootstate_confirm(&bs)               the boot is good
 *     eota_bootstate_prepare(&bs, slot)         before writing an upload
 *     eota_bootstate_install(&bs, slot, n, crc) after it is written
 *     eota_bootstate_request_safe_mode(&bs)     safe mode at the next boot
 * eota/slotstore.h does prepare and install for an upload by the engine.
 */
#ifndef EOTA_BOOTSTATE_H
#define EOTA_BOOTSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/flash.h"
#include "eota/private_access.h"
#include "eota/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_BOOT_SLOTS 2
#define EOTA_BOOT_NO_SLOT (-1)

/* The stock safe_mode: defaults (PROTOCOL.md section 8). */
#define EOTA_SAFE_MODE_NUM_ATTEMPTS 10u
#define EOTA_SAFE_MODE_REBOOT_TIMEOUT_MS 300000u
#define EOTA_SAFE_MODE_BOOT_IS_GOOD_AFTER_MS 60000u

/* Most counter units kept after one record before a new record takes the
 * count over (bounds the scan at every boot). */
#define EOTA_BOOT_MAX_TICKS 512u

typedef enum eota_slot_state {
    EOTA_SLOT_EMPTY = 0,   /* nothing bootable: never used, or being written */
    EOTA_SLOT_NEW = 1,     /* a complete image, installed, not booted yet */
    EOTA_SLOT_TRIAL = 2,   /* booted on trial: confirmed, or rolled back at
                              the next boot */
    EOTA_SLOT_VALID = 3,   /* confirmed */
    EOTA_SLOT_INVALID = 4  /* failed its trial or its check; never booted */
} eota_slot_state;

typedef struct eota_slot_info {
    uint8_t state;        /* eota_slot_state */
    uint32_t image_seq;   /* install number: higher is newer; 0 for none */
    uint32_t size;        /* image bytes */
    uint32_t crc;         /* CRC-32 of the image bytes */
} eota_slot_info;

/* One record, as decoded (docs/bootstate.md has the bytes). */
#define EOTA_BOOTREC_FLAG_SAFE_MODE_REQUEST 0x01u

typedef struct eota_bootrec {
    uint32_t seq;         /* bumped at every record write */
    uint32_t boot_base;   /* unconfirmed boots when this record was written;
                             the counter units after it go on from there */
    uint8_t active;       /* slot to boot, or 0xFF for none */
    uint8_t flags;        /* EOTA_BOOTREC_FLAG_* */
    eota_slot_info slot[EOTA_BOOT_SLOTS];
} eota_bootrec;

typedef struct eota_flash_region {
    uint32_t addr;        /* start of a sector */
    uint32_t size;        /* a whole number of sectors; 0 = not on this flash */
} eota_flash_region;

typedef struct eota_bootstate_config {
    eota_flash flash;
    /* Two sectors, one per copy of the record; each also holds the boot
     * counter that follows its record. Distinct sectors. */
    uint32_t copy_addr[2];
    /* The image slots, when they are on the same flash (the flash backend
     * writes them, eota_boot checks them). Size 0: images live elsewhere
     * (`eota device` keeps them in files). */
    eota_flash_region slot[EOTA_BOOT_SLOTS];
    /* eota_boot checks the CRC-32 of an image (slot regions needed) before
     * it boots it; one that fails is marked INVALID. */
    uint8_t verify;
    /* Optional (NULL): checks a slot's image where the core cannot read it
     * (`eota device` keeps images in files): 1 good, 0 bad (not booted,
     * marked INVALID), < 0 unknown (not booted, not condemned). eota_boot
     * asks it, when set, before it boots a slot. */
    int (*check)(void *ctx, int slot, const eota_slot_info *info);
    void *check_ctx;
} eota_bootstate_config;

/* The keys of PROTOCOL.md section 8. eota_boot uses num_attempts and
 * disabled; eota/safemode.h the two times. */
typedef struct eota_safe_mode_config {
    uint32_t num_attempts;          /* unconfirmed boots in a row before safe mode */
    uint32_t reboot_timeout_ms;     /* how long safe mode lasts */
    uint32_t boot_is_good_after_ms; /* uptime after which a boot is confirmed */
    uint8_t disabled;               /* never enter safe mode (requests ignored) */
} eota_safe_mode_config;

/* The stock defaults: 10 attempts, 5 min, 1 min, enabled. */
void eota_safe_mode_config_defaults(eota_safe_mode_config *c);

/* The boot state: the caller owns it, the fields are private (EOTA_PRIVATE,
 * eota/private_access.h); read it through the functions. The record and the
 * counter come first, so that Thumb-1 reaches their bytes in one load. */
typedef struct eota_bootstate {
    eota_bootrec EOTA_PRIVATE(rec);       /* the current record (all EMPTY when none) */
    int EOTA_PRIVATE(cur);                /* copy holding the current record, -1 for none */
    uint32_t EOTA_PRIVATE(tick);          /* bytes per counter unit (the write alignment) */
    uint32_t EOTA_PRIVATE(ticks);         /* counter units used after the current record */
    uint32_t EOTA_PRIVATE(tick_cap);      /* counter units the current copy can take */
    uint32_t EOTA_PRIVATE(count);         /* unconfirmed boots */
    uint32_t EOTA_PRIVATE(rec_area);      /* record bytes rounded up to the alignment */
    uint32_t EOTA_PRIVATE(copy_size)[2];  /* sector size of each copy */
    eota_flash_info EOTA_PRIVATE(fi);
    eota_bootstate_config EOTA_PRIVATE(cfg);
} eota_bootstate;

/* Check the configuration and read the state: the newest copy whose CRC
 * holds, and the ticks after it. No record at all (a new flash) is a valid
 * state: every slot EMPTY, no active slot. EOTA_OK, EOTA_EINVAL (a bad
 * configuration) or the flash's error. */
int eota_bootstate_open(eota_bootstate *bs, const eota_bootstate_config *cfg);

/* Unconfirmed boots counted so far (this boot included once it is counted). */
uint32_t eota_bootstate_attempts(const eota_bootstate *bs);
/* The active slot (the one a normal boot runs), or EOTA_BOOT_NO_SLOT. */
int eota_bootstate_active(const eota_bootstate *bs);
/* A slot's state; fills *info when info is not NULL. EOTA_SLOT_EMPTY for a
 * slot number out of range. */
eota_slot_state eota_bootstate_slot(const eota_bootstate *bs, int slot, eota_slot_info *info);
/* The slot the next upload goes to: the one that is not active. */
int eota_bootstate_target(const eota_bootstate *bs);
/* 1 when safe mode was requested for the next boot. */
int eota_bootstate_safe_mode_requested(const eota_bootstate *bs);
/* The current record's sequence number (0 when there is none). */
uint32_t eota_bootstate_seq(const eota_bootstate *bs);
/* Name of a slot state ("empty", "new", "trial", "valid", "invalid"). */
const char *eota_slot_state_name(int state);

/* --- the configuration, for the modules that write the slots --- */

/* The flash the boot state lives on (also the slots' flash, when the slots
 * are regions of it). */
const eota_flash *eota_bootstate_flash(const eota_bootstate *bs);
/* That flash's geometry: size, write alignment, erased value. */
const eota_flash_info *eota_bootstate_geometry(const eota_bootstate *bs);
/* A slot's region on that flash; size 0 when the slot is not on it (images
 * kept elsewhere) or the slot number is out of range. */
eota_flash_region eota_bootstate_slot_region(const eota_bootstate *bs, int slot);

/* --- bootloader side --- */

typedef struct eota_boot_decision {
    int slot;              /* slot to run, or EOTA_BOOT_NO_SLOT: no image,
                              run the OTA server only */
    uint32_t attempts;     /* unconfirmed boots before this one */
    uint8_t safe_mode;     /* run in safe mode (network + OTA only) */
    uint8_t requested;     /* ... because it was requested */
    uint8_t trial;         /* the image is on trial: confirm it, or the next
                              boot rolls it back */
    uint8_t trial_started; /* this is its first boot (it was NEW) */
    uint8_t rolled_back;   /* an image on trial was rolled back this boot */
    int8_t invalidated;    /* slot marked INVALID this boot, or -1 */
    int status;            /* EOTA_OK, or the error of a flash write that
                              failed: the decision still stands */
} eota_boot_decision;

/* Count the attempt (a unit appended before anything else), roll back an
 * image that was on trial (it reached a reboot without confirmation; it gets
 * one trial boot) when the other slot holds a valid image, decide on safe
 * mode (attempts before this boot >= num_attempts, or a request; never when
 * disabled; entering it clears the count and the request), start the trial
 * of a NEW image (not in safe mode: it stays NEW until a normal boot), and
 * pick the slot. All the changes go into one record write (or, when only
 * the count goes back to 0, one CLEAR unit). Returns d->status. Boot d->slot
 * even when the status is an error. */
int eota_boot(eota_bootstate *bs, const eota_safe_mode_config *sm, eota_boot_decision *d);

/* Only the first step of eota_boot: append one BOOT unit (a new record
 * takes the count over when the counter area is full). No-op without a
 * record. */
int eota_bootstate_count_boot(eota_bootstate *bs);

/* --- application side --- */

/* The boot is good: the count goes back to 0 (a CLEAR unit appended: no
 * erase) and an active image on trial becomes VALID (a record). Writes
 * nothing when there is nothing to change. */
int eota_bootstate_confirm(eota_bootstate *bs);

/* Before an upload writes into `slot`: a record that says the slot holds no
 * bootable image is written first (when it says otherwise). An active image
 * on trial is confirmed in the same record (it runs well enough to take an
 * update). EOTA_EBUSY for the active slot. */
int eota_bootstate_prepare(eota_bootstate *bs, int slot);

/* After the image is completely written into `slot` (prepared before):
 * the slot becomes NEW with its size and CRC-32, the count goes back to 0;
 * the next normal boot runs it on trial. EOTA_EBUSY for the active slot,
 * EOTA_EINVAL when the slot was not prepared or the image does not fit. */
int eota_bootstate_install(eota_bootstate *bs, int slot, uint32_t size, uint32_t crc);

/* Rebuild a boot state that was lost (no record reads): a record with
 * r's active slot and slot states (their size, CRC and image_seq), no
 * boot counted, no request; its seq comes after every image_seq. Every
 * state a known one, and the active slot (or EOTA_BOOT_NO_SLOT) VALID or
 * TRIAL: else EOTA_EINVAL. */
int eota_bootstate_restore(eota_bootstate *bs, const eota_bootrec *r);

/* Ask for safe mode at the next boot (the safe-mode button). */
int eota_bootstate_request_safe_mode(eota_bootstate *bs);

#ifdef __cplusplus
}
#endif

#endif
