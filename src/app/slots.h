/*
 * slots.h: A/B image slots of `eota device` in a state directory, and the
 * storage backend that writes an upload into the inactive slot.
 *
 * Layout of the state directory:
 *   slot_a.bin, slot_b.bin   the images
 *   slot_X.bin.part          an upload in progress (never the running slot)
 *   boot.state               which slot is active (replaced atomically)
 *
 * An upload becomes visible only through two atomic steps, each after an
 * fsync: the finished image is renamed over the inactive slot, then
 * boot.state is replaced to point at it. A crash between or before them
 * leaves the device booting the image it had.
 */
#ifndef EOTA_APP_SLOTS_H
#define EOTA_APP_SLOTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>

#include "eota/backend.h"

typedef struct eota_slots {
    char *dir;
    char active;        /* 'a', 'b', or 0 when nothing is installed yet */
    uint32_t seq;       /* bumped at every switch */
    uint32_t installs;  /* successful uploads since the state was created */
} eota_slots;

/* Create the directory when missing, read boot.state, remove stale .part
 * files. Returns 0, or -1 with a message in err. */
int eota_slots_open(eota_slots *s, const char *dir, char *err, size_t errlen);
void eota_slots_close(eota_slots *s);
/* Path of a slot's image ('a' or 'b') into buf; returns buf. */
char *eota_slots_path(const eota_slots *s, char slot, char *buf, size_t len);
/* The slot an upload goes to. */
char eota_slots_inactive(const eota_slots *s);
/* Make `slot` the active one: boot.state written to a temporary file,
 * fsync'd, renamed, and the directory fsync'd. 0 or -1 (errno set). */
int eota_slots_activate(eota_slots *s, char slot);

/* What the file backend needs to know (from the profile and simulate:). */
typedef struct eota_file_backend_opts {
    uint32_t slot_size;        /* largest image (after inflation) */
    uint8_t too_big_code;      /* sent when it does not fit */
    int gzip;                  /* accept gzip: inflated while receiving */
    uint64_t write_speed;      /* emulated flash speed in B/s, 0 = off */
    int fail_at;               /* eota_sim_fail_at */
    uint8_t fail_code;
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
    /* the last failure, for logs */
    char why[4352];
} eota_file_backend;

void eota_file_backend_init(eota_file_backend *fb, eota_slots *slots, const eota_file_backend_opts *o);
eota_backend eota_file_backend_seam(eota_file_backend *fb);

#endif
