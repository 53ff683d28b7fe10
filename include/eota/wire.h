/*
 * eota/wire.h: the buffered connection both OTA engines embed (the device's
 * eota_server and the uploader's eota_client): the transport, the bytes of
 * the reply or field being gathered, and the bytes queued for the peer.
 *
 * Private state: there is no API here. It is public only because the
 * engines' structs, which callers allocate, hold it; use the engines'
 * functions.
 */
#ifndef EOTA_WIRE_H
#define EOTA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/private_access.h"
#include "eota/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest fixed-size field an engine gathers (cnonce + SHA-256 response)
 * and the most bytes it queues at once (acks, 44 and an error byte). */
#define EOTA_WIRE_IN_MAX 128u
#define EOTA_WIRE_OUT_MAX 160u

typedef struct eota_wire {
    const eota_transport_ops *EOTA_PRIVATE(transport);
    void *EOTA_PRIVATE(conn);               /* NULL when no connection */
    size_t EOTA_PRIVATE(out_len), EOTA_PRIVATE(out_pos); /* queued bytes, out_pos..out_len unsent */
    size_t EOTA_PRIVATE(in_need), EOTA_PRIVATE(in_have); /* the field being gathered */
    uint8_t EOTA_PRIVATE(in)[EOTA_WIRE_IN_MAX];
    uint8_t EOTA_PRIVATE(out)[EOTA_WIRE_OUT_MAX];
} eota_wire;

#ifdef __cplusplus
}
#endif

#endif
