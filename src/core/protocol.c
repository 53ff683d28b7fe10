/*
 * protocol.c: names and plain-language descriptions of the response codes
 * and states, so that every end prints a code in words (PROTOCOL.md 4).
 */
#include "eota/protocol.h"

#include <stddef.h>

#include "text.h"

static const eota_text codes[] = {
    EOTA_TEXT(0x00, "OK", "the device acknowledged"),
    EOTA_TEXT(0x01, "REQUEST_AUTH", "the device asks for a password (legacy MD5 challenge)"),
    EOTA_TEXT(0x02, "REQUEST_SHA256_AUTH", "the device asks for a password (SHA-256 challenge)"),
    EOTA_TEXT(0x40, "HEADER_OK", "the device accepted the header"),
    EOTA_TEXT(0x41, "AUTH_OK", "the device accepted the authentication"),
    EOTA_TEXT(0x42, "UPDATE_PREPARE_OK", "the device is ready to receive the image"),
    EOTA_TEXT(0x43, "BIN_MD5_OK", "the device stored the image's MD5"),
    EOTA_TEXT(0x44, "RECEIVE_OK", "the device received the whole image"),
    EOTA_TEXT(0x45, "UPDATE_END_OK", "the device verified and installed the image"),
    EOTA_TEXT(0x46, "SUPPORTS_COMPRESSION", "the device accepts gzip-compressed images"),
    EOTA_TEXT(0x47, "CHUNK_OK", "the device received another block"),
    EOTA_TEXT(0x48, "FEATURE_FLAGS", "the device sends its feature flags"),
    EOTA_TEXT(0x80, "ERROR_MAGIC", "invalid magic bytes: the peer is not an OTA peer, or the image is not valid"),
    EOTA_TEXT(0x81, "ERROR_UPDATE_PREPARE", "the device could not prepare its storage; is the image too big? restart the device"),
    EOTA_TEXT(0x82, "ERROR_AUTH_INVALID", "authentication failed; is the password right? (devices since 2026.1 also require SHA-256)"),
    EOTA_TEXT(0x83, "ERROR_WRITING_FLASH", "the device failed to write the image"),
    EOTA_TEXT(0x84, "ERROR_UPDATE_END", "the device failed to finish the update"),
    EOTA_TEXT(0x85, "ERROR_INVALID_BOOTSTRAPPING", "the ESP8266 is still in serial-download boot mode: power-cycle it once after a serial flash"),
    EOTA_TEXT(0x86, "ERROR_WRONG_CURRENT_FLASH_CONFIG", "the device was flashed with the wrong flash size; flash it over USB with the right board"),
    EOTA_TEXT(0x87, "ERROR_WRONG_NEW_FLASH_CONFIG", "the image asks for more flash than the chip has (wrong board?)"),
    EOTA_TEXT(0x88, "ERROR_ESP8266_NOT_ENOUGH_SPACE", "not enough space on the ESP8266 for the image; flash a minimal firmware first"),
    EOTA_TEXT(0x89, "ERROR_ESP32_NOT_ENOUGH_SPACE", "the OTA partition is too small for the image"),
    EOTA_TEXT(0x8A, "ERROR_NO_UPDATE_PARTITION", "the device has no OTA partition"),
    EOTA_TEXT(0x8B, "ERROR_MD5_MISMATCH", "the image arrived corrupted (MD5 mismatch); retry"),
    EOTA_TEXT(0x8C, "ERROR_RP2040_NOT_ENOUGH_SPACE", "not enough space on the RP2040 for the image"),
    EOTA_TEXT(0x8D, "ERROR_SIGNATURE_INVALID", "the image is not signed with a key the device trusts"),
    EOTA_TEXT(0x8E, "ERROR_UNSUPPORTED_OTA_TYPE", "the device cannot take this kind of image"),
    EOTA_TEXT(0x8F, "ERROR_PARTITION_TABLE_VERIFY", "the partition table did not verify; nothing was changed"),
    EOTA_TEXT(0x90, "ERROR_PARTITION_TABLE_UPDATE", "writing the partition table failed; the device may be degraded"),
    EOTA_TEXT(0x91, "ERROR_BOOTLOADER_VERIFY", "the bootloader did not verify; nothing was changed"),
    EOTA_TEXT(0x92, "ERROR_BOOTLOADER_UPDATE", "writing the bootloader failed; the device may be degraded"),
    EOTA_TEXT(0x93, "ERROR_VERSION_DOWNGRADE", "the image is older than the running one and the device refuses downgrades"),
    EOTA_TEXT(0x94, "ERROR_ENCRYPTION_REQUIRED", "the device accepts encrypted uploads only"),
    EOTA_TEXT(0xFF, "ERROR_UNKNOWN", "the device reported an unspecified error"),
};

const char *eota_response_name(uint8_t code)
{
    const eota_text *t = eota_text_find(codes, EOTA_TEXT_COUNT(codes), code);
    return t ? t->name : NULL;
}

const char *eota_response_describe(uint8_t code)
{
    const char *unknown = code >= 0x80 ? "the device sent an error code this program does not know"
                                       : "the device sent a byte this program does not know";
    if (!EOTA_WITH_DESCRIPTIONS)
        unknown = "unknown code";
    return eota_text_sentence(eota_text_find(codes, EOTA_TEXT_COUNT(codes), code), unknown);
}

const char *eota_state_name(eota_state state)
{
    switch (state) {
    case EOTA_STATE_COMPLETED: return "COMPLETED";
    case EOTA_STATE_STARTED: return "STARTED";
    case EOTA_STATE_IN_PROGRESS: return "IN_PROGRESS";
    case EOTA_STATE_ABORT: return "ABORT";
    case EOTA_STATE_ERROR: return "ERROR";
    }
    return "UNKNOWN";
}

void eota_hex_encode(char *dst, const uint8_t *src, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
}
