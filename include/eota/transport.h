/*
 * eota/transport.h: the transport seam. One connection is an opaque pointer
 * the integrator owns; the engine reaches it only through these calls, which
 * must never block.
 */
#ifndef EOTA_TRANSPORT_H
#define EOTA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "eota/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_transport_ops {
    /* Read up to len bytes. Returns the count (> 0), EOTA_AGAIN when nothing
     * is there yet, EOTA_CLOSED at end of stream, EOTA_EIO on error. */
    long (*read)(void *conn, uint8_t *buf, size_t len);
    /* Write up to len bytes. Returns the count accepted (> 0), EOTA_AGAIN
     * when none can be taken now, EOTA_CLOSED or EOTA_EIO. */
    long (*write)(void *conn, const uint8_t *buf, size_t len);
    /* Release the connection. The engine calls it exactly once per
     * connection it was given, accepted or turned away. */
    void (*close)(void *conn);
} eota_transport_ops;

#ifdef __cplusplus
}
#endif

#endif
