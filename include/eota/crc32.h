/*
 * eota/crc32.h: CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the
 * zlib/PNG one), hand-written in the portable core: two 16-entry tables, or
 * a bit per step when EOTA_WITH_CRC_TABLE is 0 (eota/opt.h).
 * eota_crc32(0, "123456789", 9) == 0xCBF43926.
 */
#ifndef EOTA_CRC32_H
#define EOTA_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Continue a CRC: start with crc = 0, feed the data in any pieces, the
 * result of the last call is the CRC of the whole. */
uint32_t eota_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
