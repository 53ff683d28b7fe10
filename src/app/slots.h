/*
 * slots.h: A/B image slots of `eota device` in a state directory: the
 * layout, the boot state on its file, and the paths the storage stack
 * (storage.h) writes an upload to.
 *
 * Layout of the state directory:
 *   slot_a.bin, slot_b.bin   the images
 *   slot_X.bin.part          an upload in progress (never the running slot)
 *   slot_X.bin.check         the record beside each slot: its size, CRC-32,
 *                            install number, confirmed (eota/filestore.h)
 *   boot.flash               the boot state: the core's two-copy records and
 *                            boot counter (eota/bootstate.h) on a file
 *                            treated as NOR flash, fsync'd at every write
 *
 * One device per state directory: the directory is locked (flock) while a
 * device runs on it. A read-only directory runs the installed image with
 * updates off. The boot state and the slots check each other
 * (slots_check.c): a slot file that does not match the boot state is not
 * started; a lost boot state is rebuilt from the slot files and records.
 *
 * An upload becomes bootable only through ordered, durable steps (the slot
 * store, eota/slotstore.h, over files, eota/filestore.h): the boot state
 * first marks the target slot as holding nothing bootable (prepare); the
 * image is written to a .part file, fsync'd and renamed over the slot file,
 * the directory fsync'd; then the boot state records the slot as NEW with
 * its size and CRC (install). A crash at any point leaves the device
 * booting the image it had; the next boot runs the new one on trial.
 */
#ifndef EOTA_APP_SLOTS_H
#define EOTA_APP_SLOTS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "eota/bootstate.h"
#include "eota/fileflash.h"

typedef struct eota_slots {
    char *dir;
    eota_fileflash ff;   /* boot.flash: the boot state on a file as NOR flash */
    eota_bootstate bs;   /* the core's boot state (eota/bootstate.h) */
    char active;         /* slot this boot runs, 'a'/'b', or 0 for none */
    int lock_fd;         /* the state directory, locked; valid when locked */
    uint8_t locked;
    uint8_t read_only;   /* the directory cannot be written: updates are off */
    uint8_t no_repair;   /* --show-state: read, never write */
    char boot_found[96]; /* what boot.flash was when opened, when not sound */
} eota_slots;

/* Create the directory when missing, lock it (a second device on it is
 * refused), open boot.flash (created erased when missing, started again
 * when of the wrong size) and read the boot state (rebuilt from the slots
 * when lost), remove stale .part files. Returns 0, or -1 with a message in
 * err. */
int eota_slots_open(eota_slots *s, const char *dir, char *err, size_t errlen);
void eota_slots_close(eota_slots *s);
/* Print the boot state of a state directory as key=value lines, without
 * changing anything (safe beside a running device). 0, or -1 with err. */
int eota_slots_show(const char *dir, FILE *out, char *err, size_t errlen);
/* Read the boot state again from the file (a reboot): rebuilt from the
 * slots when no record reads, and the checks of the slot files set up for
 * eota_boot. 0 or -1. */
int eota_slots_reload(eota_slots *s, char *err, size_t errlen);

/* slots_check.c: the boot state and the slot files checking each other. */
/* The bootstate's check seam: slot's file against its size and CRC. */
int eota_slots_check(void *ctx, int slot, const eota_slot_info *info);
/* After the boot state was read: rebuild it from the slots when no record
 * reads; keep an image confirmed that its record says was confirmed. */
void eota_slots_repair(eota_slots *s);
/* The records beside the slots follow the boot state (after a boot, after
 * a confirmation). */
void eota_slots_sync(eota_slots *s);
/* Path of a slot's image ('a' or 'b') into buf; returns buf. */
char *eota_slots_path(const eota_slots *s, char slot, char *buf, size_t len);
/* 'a'/'b' of a core slot number, 0 for none. */
static inline char eota_slot_letter(int slot) { return slot == 0 ? 'a' : slot == 1 ? 'b' : 0; }

#endif
