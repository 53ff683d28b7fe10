/*
 * ingest.c: the data phase of an upload (eota/ingest.h).
 */
#include "eota/ingest.h"

#include "eota/protocol.h"

uint8_t eota_ingest_wire_code(int status, uint8_t detail_code, eota_ingest_step step, uint8_t too_big_code)
{
    static const uint8_t by_step[] = {EOTA_RESP_ERROR_UPDATE_PREPARE, EOTA_RESP_ERROR_WRITING_FLASH,
                                      EOTA_RESP_ERROR_UPDATE_END};
    if (detail_code != 0)
        return detail_code;
    switch (status) {
    case EOTA_ETOOBIG: return too_big_code ? too_big_code : (uint8_t)EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE;
    case EOTA_ENOSLOT: return EOTA_RESP_ERROR_NO_UPDATE_PARTITION;
    case EOTA_EUNSUPPORTED: return EOTA_RESP_ERROR_UNSUPPORTED_OTA_TYPE;
    case EOTA_EPREPARE: return EOTA_RESP_ERROR_UPDATE_PREPARE;
    case EOTA_EWRITE:
    case EOTA_EFORMAT: return EOTA_RESP_ERROR_WRITING_FLASH;
    case EOTA_EVERIFY:
    case EOTA_ECOMMIT: return EOTA_RESP_ERROR_UPDATE_END;
    default: return by_step[step];
    }
}
