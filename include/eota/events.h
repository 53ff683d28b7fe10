/*
 * eota/events.h: the events seam, the seed's OTA state callback (PROTOCOL.md
 * section 6), plus an optional log line for the integrator to print.
 */
#ifndef EOTA_EVENTS_H
#define EOTA_EVENTS_H

#include <stdint.h>

#include "eota/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_event {
    eota_state state;
    uint8_t code;       /* the response code sent, for EOTA_STATE_ERROR */
    uint32_t received;  /* wire bytes received so far */
    uint32_t total;     /* wire bytes announced (0 before the size is known) */
    const char *detail; /* EOTA_STATE_ERROR: what failed, in words (the
                           storage backend's detail), or NULL; valid during
                           the callback only */
} eota_event;

/* The seed's progress figure, in percent. */
static inline float eota_event_percent(const eota_event *ev)
{
    if (ev->state == EOTA_STATE_COMPLETED)
        return 100.0f;
    if (ev->total == 0)
        return 0.0f;
    return (float)ev->received * 100.0f / (float)ev->total;
}

typedef enum eota_log_level {
    EOTA_LOG_ERROR = 1,
    EOTA_LOG_WARN = 2,
    EOTA_LOG_INFO = 3,
    EOTA_LOG_DEBUG = 4,
    EOTA_LOG_VERBOSE = 5
} eota_log_level;

typedef struct eota_events {
    /* Both optional (NULL). msg is a constant string ("" in a build
     * without EOTA_WITH_LOG_TEXT, eota/opt.h); arg is a number that goes
     * with it (a byte count, a code), or 0. */
    void (*on_event)(void *ctx, const eota_event *ev);
    void (*on_log)(void *ctx, eota_log_level level, const char *msg, uint32_t arg);
    void *ctx;
} eota_events;

#ifdef __cplusplus
}
#endif

#endif
