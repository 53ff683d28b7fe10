/*
 * simflash.h: a simulated NOR flash in RAM (src/port/simflash) behind
 * the flash seam (eota/flash.h), for tests and the power-cut sweep. A test
 * double: part of eota_testsupport, never installed.
 *
 * - Geometry: runs of sectors (e.g. 4 x 4 KiB then 3 x 64 KiB), write
 *   alignment 1 to 32, erased value 0xFF or 0x00. Starts fully erased.
 * - NOR rules enforced: a program that is misaligned, crosses a sector,
 *   goes out of range, or touches a byte programmed since its sector was
 *   last erased is refused whole (EOTA_EINVAL) and counted in `violations`.
 * - Counters: reads, programs, erases, and `ops` (program and erase calls,
 *   the index a power cut is aimed at).
 * - Power cuts: arm one at op index `at` (counted by `ops`): BEFORE (the op
 *   does nothing), AFTER (the op completes) or TORN (a program writes a
 *   prefix of its bytes and one byte half-programmed; an erase erases a
 *   prefix of the sector and leaves the rest as it was or as garbage). From
 *   then on the flash is dead: every call fails with EOTA_EIO and changes
 *   nothing, until eota_simflash_power_on.
 * A half-programmed or garbage byte that reads as the erased value counts as
 * erased (it can be programmed again).
 */
#ifndef EOTA_SIMFLASH_H
#define EOTA_SIMFLASH_H

#include <stddef.h>
#include <stdint.h>

#include "eota/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_SIMFLASH_MAX_RUNS 8

typedef struct eota_simflash_run {
    uint32_t count;   /* sectors */
    uint32_t size;    /* bytes each: a multiple of the write alignment */
} eota_simflash_run;

typedef struct eota_simflash_geometry {
    eota_simflash_run runs[EOTA_SIMFLASH_MAX_RUNS]; /* in address order; a
                                                       count of 0 ends it */
    uint32_t write_align;   /* 1, 2, 4, 8, 16 or 32 */
    uint8_t erased;         /* 0xFF or 0x00 */
} eota_simflash_geometry;

typedef enum eota_simflash_cut_mode {
    EOTA_SIMFLASH_CUT_NONE = 0,
    EOTA_SIMFLASH_CUT_BEFORE = 1,
    EOTA_SIMFLASH_CUT_AFTER = 2,
    EOTA_SIMFLASH_CUT_TORN = 3
} eota_simflash_cut_mode;

typedef struct eota_simflash_cut {
    eota_simflash_cut_mode mode;
    unsigned long at;     /* value of `ops` of the operation hit */
    uint16_t tear;        /* TORN: per mille of the bytes done (0..1000) */
    uint8_t garbage;      /* TORN erase: the bytes not erased become garbage */
    uint8_t half_mask;    /* TORN program: which of the half-programmed
                             byte's changing bits made it; 0: from the seed */
    uint32_t seed;        /* for the half-programmed byte and the garbage */
} eota_simflash_cut;

/* Operation kinds, for the hook. */
#define EOTA_SIMFLASH_OP_PROGRAM 1
#define EOTA_SIMFLASH_OP_ERASE 2

typedef struct eota_simflash {
    eota_simflash_geometry geo;
    uint32_t size;
    uint32_t nsectors;
    uint32_t *sector_start;   /* nsectors + 1 entries (the last = size) */
    uint8_t *mem;
    uint8_t *written;         /* per byte: programmed since the last erase */

    unsigned long reads, programs, erases; /* completed calls */
    unsigned long ops;        /* program + erase calls made (refused ones too) */
    unsigned long violations; /* calls refused for breaking a NOR rule */
    const char *last_violation;

    eota_simflash_cut cut;    /* armed cut; mode NONE when none */
    int dead;                 /* the power is off */
    unsigned long cuts;       /* cuts that happened */

    /* Called after every program or erase that changed the flash (the cut
     * one included), with the op's index. Optional. */
    void (*on_op)(void *ctx, int kind, uint32_t addr, uint32_t len, unsigned long index);
    void *on_op_ctx;
} eota_simflash;

/* Allocate and erase. EOTA_OK, EOTA_EINVAL (a bad geometry) or
 * EOTA_ENOSPC (out of memory). */
int eota_simflash_init(eota_simflash *sf, const eota_simflash_geometry *geo);
void eota_simflash_free(eota_simflash *sf);
eota_flash eota_simflash_seam(eota_simflash *sf);

/* Uniform geometry helper: count sectors of size bytes. */
eota_simflash_geometry eota_simflash_uniform(uint32_t count, uint32_t size, uint32_t align, uint8_t erased);

/* Arm a cut (replaces any armed one). */
void eota_simflash_arm(eota_simflash *sf, const eota_simflash_cut *cut);
/* Power back on: the flash works again, no cut armed. */
void eota_simflash_power_on(eota_simflash *sf);
/* Copy the contents (and programmed marks) of src into dst, which has the
 * same geometry. Counters and cuts are not copied. EOTA_OK or EOTA_EINVAL. */
int eota_simflash_copy(eota_simflash *dst, const eota_simflash *src);

#ifdef __cplusplus
}
#endif

#endif
