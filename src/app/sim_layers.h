/*
 * sim_layers.h: the config's `simulate:` behaviours as storage backend
 * layers (eota/backend.h), so that `eota device` answers like a chip:
 *
 *   speed  flash_write_speed: takes bytes no faster than the emulated flash
 *          writes them (a busy flash takes part, or nothing, and is called
 *          again), so the engine's backpressure reaches the uploader;
 *   fail   fail_at (prepare, write, end), fail_after_bytes, fail_code: the
 *          injected failure, reported with the chip's exact response byte
 *          (eota_backend_detail.code = fail_code).
 *
 * Each layer forwards begin/write/end/abort/detail to its inner backend.
 * The speed layer goes above the fail layer: the bytes the failure counts
 * are those the emulated flash took.
 */
#ifndef EOTA_APP_SIM_LAYERS_H
#define EOTA_APP_SIM_LAYERS_H

#include <stdint.h>

#include "config/config.h"
#include "eota/backend.h"

/* Each layer's struct starts with its inner backend (sim_layers.c relies
 * on it). */
typedef struct eota_sim_speed {
    eota_backend inner;
    uint64_t bytes_per_s;        /* 0: no limit */
    uint64_t (*now_ms)(void);    /* the clock (tests set their own) */
    uint64_t bucket_ms;          /* when tokens were last added */
    uint64_t tokens;             /* bytes the flash may take now */
    int busy;                    /* the last write left bytes untaken */
} eota_sim_speed;

void eota_sim_speed_init(eota_sim_speed *s, eota_backend inner, uint64_t bytes_per_s);
eota_backend eota_sim_speed_seam(eota_sim_speed *s);

typedef struct eota_sim_fail {
    eota_backend inner;
    eota_sim_fail_at at;
    uint8_t code;                /* fail_code: the response byte */
    int has_after;
    uint32_t after;              /* fail_after_bytes */
    uint32_t taken;              /* bytes taken in this upload */
    const char *why;             /* set when the last failure was injected */
} eota_sim_fail;

void eota_sim_fail_init(eota_sim_fail *f, eota_backend inner, const eota_simulate_config *sim);
eota_backend eota_sim_fail_seam(eota_sim_fail *f);

#endif
