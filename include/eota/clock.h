/*
 * eota/clock.h: the clock seam, milliseconds since boot. It may wrap around
 * (a 32-bit millis() does every 49 days); the engines only ever subtract.
 */
#ifndef EOTA_CLOCK_H
#define EOTA_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_clock {
    uint32_t (*now_ms)(void *ctx);
    void *ctx;
} eota_clock;

#ifdef __cplusplus
}
#endif

#endif
