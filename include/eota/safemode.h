/*
 * eota/safemode.h: the application side of safe mode (PROTOCOL.md section
 * 8), over the boot state of eota/bootstate.h. The bootloader's eota_boot
 * has counted the boot and decided; the application then:
 *
 *     eota_safe_mode sm;
 *     eota_safe_mode_begin(&sm, &bs, &cfg, &decision, now_ms());
 *     if (eota_safe_mode_is_active(&sm)) start only the network and OTA;
 *     else start everything;
 *     in the main loop:
 *         switch (eota_safe_mode_poll(&sm, now_ms())) {
 *         case EOTA_SAFE_MODE_REBOOT: reboot(); break;       safe mode is over
 *         case EOTA_SAFE_MODE_CONFIRMED: ...; break;         boot_is_good_after
 *         default: break;
 *         }
 *     on an orderly shutdown: eota_safe_mode_shutdown(&sm);
 *     the safe-mode button:   eota_safe_mode_request(&sm);
 *
 * A normal boot is confirmed (the count cleared, an image on trial made
 * valid) after boot_is_good_after, by eota_safe_mode_mark_successful, or on
 * an orderly shutdown. A boot in safe mode confirms nothing: the count was
 * cleared when it began, and an image that never ran its application has
 * not passed a trial. No allocation, no global state, no clock of its own:
 * the caller passes the time (milliseconds, wrapping allowed).
 */
#ifndef EOTA_SAFEMODE_H
#define EOTA_SAFEMODE_H

#include <stdint.h>

#include "eota/bootstate.h"
#include "eota/private_access.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eota_safe_mode_action {
    EOTA_SAFE_MODE_NOTHING = 0,
    EOTA_SAFE_MODE_CONFIRMED = 1, /* the boot was just confirmed (once) */
    EOTA_SAFE_MODE_REBOOT = 2     /* safe mode has lasted reboot_timeout:
                                     reboot (reported at every poll after) */
} eota_safe_mode_action;

/* The caller owns it, the fields are private (EOTA_PRIVATE,
 * eota/private_access.h); use the functions. */
typedef struct eota_safe_mode {
    eota_bootstate *EOTA_PRIVATE(bs);
    eota_safe_mode_config EOTA_PRIVATE(cfg);
    uint32_t EOTA_PRIVATE(start_ms);
    int EOTA_PRIVATE(slot);             /* the slot running, or EOTA_BOOT_NO_SLOT */
    uint8_t EOTA_PRIVATE(safe_mode);    /* this boot runs in safe mode */
    uint8_t EOTA_PRIVATE(trial);        /* the image runs on trial */
    uint8_t EOTA_PRIVATE(confirmed);    /* the boot was confirmed */
    int EOTA_PRIVATE(last_status);      /* the status of the last write */
} eota_safe_mode;

/* Start the clocks for this boot. bs must outlive sm. cfg NULL: the stock
 * defaults. */
void eota_safe_mode_begin(eota_safe_mode *sm, eota_bootstate *bs, const eota_safe_mode_config *cfg,
                          const eota_boot_decision *d, uint32_t now_ms);

/* 1 when this boot runs in safe mode (only the network and OTA). */
int eota_safe_mode_is_active(const eota_safe_mode *sm);

/* The timers: confirmation after boot_is_good_after (normal boot), reboot
 * after reboot_timeout (safe mode). */
eota_safe_mode_action eota_safe_mode_poll(eota_safe_mode *sm, uint32_t now_ms);

/* Milliseconds until eota_safe_mode_poll has something to do, or -1. */
long eota_safe_mode_timeout_ms(const eota_safe_mode *sm, uint32_t now_ms);

/* The boot is good (the seed's mark_successful): EOTA_OK, or the flash's
 * error. Nothing is written in safe mode or when already confirmed. */
int eota_safe_mode_mark_successful(eota_safe_mode *sm);

/* An orderly shutdown: the boot counts as good (as mark_successful). */
int eota_safe_mode_shutdown(eota_safe_mode *sm);

/* Enter safe mode at the next boot. */
int eota_safe_mode_request(eota_safe_mode *sm);

#ifdef __cplusplus
}
#endif

#endif
