/*
 * slots.h: A/B image slots of `eota device` in a state directory, and the
 * storage backend that writes an upload into the inactive slot.
 *
 * Layout of the state directory:
 *   slot_a.bin, slot_b.bin   the images
 *   slot_X.bin.part          an upload in progress (never the running slot)
 *   boot.flash               the boot state: the core's two-copy records and
 *                            boot counter (eota/bootstate.h) on a file
 *                            treated as NOR flash, fsync'd at every write
 *
 * An upload becomes bootable only through ordered, durable steps: the boot
 * state first marks the target slot as holding nothing bootable (prepare);
 * the image is written to a .part file, fsync'd and renamed over the slot
 * file, the directory fsync'd; then the boot state records the slot as NEW
 * with its size and CRC (install). A crash at any point leaves the device
 * booting the image it had; the next boot runs the new one on trial.
 */
#ifndef EOTA_APP_SLOTS_H
#define EOTA_APP_SLOTS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>

#include "eota/backend.h"
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
/* The slot an upload goes to. */
char eota_slots_inactive(const eota_slots *s);
/* 'a'/'b' of a core slot number, 0 for none. */
static inline char eota_slot_letter(int slot) { return slot == 0 ? 'a' : slot == 1 ? 'b' : 0; }

/* What the file backend needs to know (from the profile and simulate:). */
typedef struct eota_file_backend_opts {
    uint32_t slot_size;        /* largest image (after inflation); a larger
                                  one fails with EOTA_ETOOBIG */
    int gzip;                  /* accept gzip: inflated while receiving */
    uint64_t write_speed;      /* emulated flash speed in B/s, 0 = off */
    int fail_at;               /* eota_sim_fail_at */
    uint8_t fail_code;         /* the response byte of that failure */
    int has_fail_after;
    uint32_t fail_after;
} eota_file_backend_opts;

typedef struct eota_file_backend {
    eota_slots *slots;
    eota_file_backend_opts o;
    int fd;
    char target;               /* slot being written */
    char part_path[4096];
    uint32_t wire_taken;       /* wire bytes taken */
    uint64_t image_len;        /* bytes written to the file (inflated) */
    uint32_t image_crc;        /* CRC-32 of those bytes, for the boot state */
    int sniffed;               /* decided raw or gzip */
    int gzip_allowed;
    int inflating;
    int inflate_done;
    z_stream zs;
    uint8_t head[2];           /* first bytes while sniffing */
    size_t head_len;
    /* emulated flash speed */
    uint64_t bucket_ms;
    uint64_t tokens;
    int flash_busy;            /* the last write left bytes untaken */
    /* the last failure (its detail, eota_backend_detail) */
    char why[4352];
    uint8_t code;              /* a simulated failure's fail_code, else 0 */
} eota_file_backend;

void eota_file_backend_init(eota_file_backend *fb, eota_slots *slots, const eota_file_backend_opts *o);
eota_backend eota_file_backend_seam(eota_file_backend *fb);

#endif
