/*
 * slots.h: A/B image slots of `eota device` in a state directory: the
 * layout, the boot state on its file, and the paths the storage stack
 * (storage.h) writes an upload to.
 *
 * Layout of the state directory:
 *   slot_a.bin, slot_b.bin   the images
 *   slot_X.bin.part          an upload in progress (never the running slot)
 *   boot.flash               the boot state: the core's two-copy records and
 *                            boot counter (eota/bootstate.h) on a file
 *                            treated as NOR flash, fsync'd at every write
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
} eota_slots;

/* Create the directory when missing, open boot.flash (created erased when
 * missing) and read the boot state, remove stale .part files. Returns 0, or
 * -1 with a message in err. */
int eota_slots_open(eota_slots *s, const char *dir, char *err, size_t errlen);
void eota_slots_close(eota_slots *s);
/* Print the boot state of a state directory as key=value lines, without
 * changing anything (safe beside a running device). 0, or -1 with err. */
int eota_slots_show(const char *dir, FILE *out, char *err, size_t errlen);
/* Read the boot state again from the file (a reboot). 0 or -1. */
int eota_slots_reload(eota_slots *s, char *err, size_t errlen);
/* Path of a slot's image ('a' or 'b') into buf; returns buf. */
char *eota_slots_path(const eota_slots *s, char slot, char *buf, size_t len);
/* 'a'/'b' of a core slot number, 0 for none. */
static inline char eota_slot_letter(int slot) { return slot == 0 ? 'a' : slot == 1 ? 'b' : 0; }

#endif
