/*
 * eota/ingest.h: the data phase of an upload, one path for every way an
 * image arrives (the native OTA engine, the web upload). For now: how the
 * engine maps a storage backend's failure to the wire.
 */
#ifndef EOTA_INGEST_H
#define EOTA_INGEST_H

#include <stdint.h>

#include "eota/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend call that failed. */
typedef enum eota_ingest_step {
    EOTA_INGEST_BEGIN = 0,
    EOTA_INGEST_WRITE = 1,
    EOTA_INGEST_END = 2
} eota_ingest_step;

/* The PROTOCOL.md response byte for a backend failure: detail_code when
 * non-zero; else by status (EOTA_ETOOBIG: too_big_code, 0 meaning
 * EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE; EOTA_ENOSLOT 8A; EOTA_EUNSUPPORTED
 * 8E; EOTA_EPREPARE 81; EOTA_EWRITE, EOTA_EFORMAT 83; EOTA_EVERIFY,
 * EOTA_ECOMMIT 84); any other status by the step (begin 81, write 83, end
 * 84). */
uint8_t eota_ingest_wire_code(int status, uint8_t detail_code, eota_ingest_step step, uint8_t too_big_code);

#ifdef __cplusplus
}
#endif

#endif
