/*
 * eota/backend.h: the storage backend seam, where an image goes. The engine
 * calls begin once, write any number of times, then end (commit) or abort.
 * The engine has already checked the image's MD5 when it calls end.
 *
 * Response codes: where a function returns a uint8_t code, 0 means success
 * and any other value is the PROTOCOL.md response byte the uploader will
 * receive (EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE, ...), which lets each
 * platform answer with its own chip's codes.
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

typedef struct eota_backend_ops {
    /* Prepare to receive an image: 0, or a response code (too big, no slot,
     * prepare failed). */
    uint8_t (*begin)(void *ctx, const eota_begin_info *info);
    /* Take bytes. Sets *taken to how many were consumed (0 to len) and
     * returns 0; a backend that is busy (slow flash) takes fewer and is
     * called again later with the rest. A failure returns a response code
     * (usually EOTA_RESP_ERROR_WRITING_FLASH). */
    uint8_t (*write)(void *ctx, const uint8_t *data, size_t len, size_t *taken);
    /* Finish and commit the image: 0 when committed, a response code on
     * failure. May set *pending to 1 to be called again later (a long
     * verification that must not block the main loop). */
    uint8_t (*end)(void *ctx, int *pending);
    /* Drop the upload: nothing of it may take effect. Called after a
     * successful begin whenever end is not reached or fails. */
    void (*abort)(void *ctx);
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
