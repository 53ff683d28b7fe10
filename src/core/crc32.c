/*
 * crc32.c: CRC-32 (reflected 0xEDB88320). With EOTA_WITH_CRC_TABLE (the
 * default), a byte per step with two 16-entry tables (128 bytes of read-only
 * data): the byte table's entry for x is lo[x & 15] ^ hi[x >> 4], the CRC
 * being linear. Without it, a bit per step: smaller, slower, same results.
 */
#include "eota/crc32.h"

#include "eota/opt.h"

#if EOTA_WITH_CRC_TABLE
static const uint32_t lo[16] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u,
};
static const uint32_t hi[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t eota_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        uint32_t x = (crc ^ *p++) & 0xFFu;
        crc = (crc >> 8) ^ lo[x & 15u] ^ hi[x >> 4];
    }
    return ~crc;
}
#else
uint32_t eota_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
#endif
