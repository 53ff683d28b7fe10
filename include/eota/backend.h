/*
 * eota/backend.h: the storage backend seam, where an image goes. The engine
 * calls begin once, write any number of times, then end (commit) or abort.
 * The engine has already checked the image's MD5 when it calls end.
 *
 * Every call reports an eota_status (eota/status.h): EOTA_OK, or a negative
 * status that says why. The engine alone turns a failure into the
 * PROTOCOL.md response byte the uploader receives (eota/ingest.h); a backend
 * never invents a wire code. The optional detail() says more about the last
 * failure, for logs.
 *
 * Backends stack: a layer is a backend whose context holds an inner
 * eota_backend and forwards begin/write/end/abort/detail to it, doing its
 * own job on the way (gzip inflation, flash-speed emulation, injected
 * faults). The slot store is the bottom of the stack.
 */
#ifndef EOTA_BACKEND_H
#define EOTA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "eota/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a backend can take (eota_backend.caps). */
#define EOTA_BACKEND_CAP_GZIP 0x01u            /* gzip images (inflated or stored) */
#define EOTA_BACKEND_CAP_PARTITION_TABLE 0x02u /* OTA type 01 */
#define EOTA_BACKEND_CAP_BOOTLOADER 0x04u      /* OTA type 02 */

typedef struct eota_begin_info {
    uint32_t size;        /* bytes that will arrive on the wire */
    uint8_t ota_type;     /* EOTA_OTA_TYPE_*; 0 for the plain protocol */
    uint8_t gzip_agreed;  /* 1 when the device offered gzip and the client
                             said it can send it: the bytes may be gzip
                             (check for 1F 8B), or may still be raw */
} eota_begin_info;

/* Why the last call failed, for logs and for the engine. */
typedef struct eota_backend_detail {
    const char *why;   /* a sentence ("image larger than the slot"), or NULL;
                          it stays valid until the next begin */
    uint8_t code;      /* 0: let the engine map the status to the wire code
                          (the normal case). Non-zero only for a layer whose
                          purpose is to reproduce a chip's exact response
                          byte (the `simulate: fail_code:` layer). */
} eota_backend_detail;

typedef struct eota_backend_ops {
    /* EOTA_OK, or a negative eota_status (EOTA_ETOOBIG, EOTA_ENOSLOT,
     * EOTA_EUNSUPPORTED, EOTA_EPREPARE, EOTA_EIO ...). */
    int (*begin)(void *ctx, const eota_begin_info *info);
    /* EOTA_OK with *taken = 0..len (a busy backend takes less and is called
     * again with the rest), or a negative status (EOTA_EWRITE, EOTA_EFORMAT,
     * EOTA_ETOOBIG when inflated data overflows, EOTA_EIO). */
    int (*write)(void *ctx, const uint8_t *data, size_t len, size_t *taken);
    /* EOTA_OK when committed; EOTA_AGAIN when pending (call again later,
     * it must not block); a negative status (EOTA_EVERIFY, EOTA_ECOMMIT,
     * EOTA_EWRITE, EOTA_EIO) on failure. */
    int (*end)(void *ctx);
    /* Drop the upload; nothing of it takes effect. Called after a
     * successful begin whenever end is not reached or fails. */
    void (*abort)(void *ctx);
    /* Optional (NULL): the detail of the last failure. */
    void (*detail)(void *ctx, eota_backend_detail *out);
} eota_backend_ops;

typedef struct eota_backend {
    const eota_backend_ops *ops;
    void *ctx;
    uint8_t caps; /* EOTA_BACKEND_CAP_* */
} eota_backend;

#ifdef __cplusplus
}
#endif

#endif
