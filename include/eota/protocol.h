/*
 * eota/protocol.h: the constants of the ESPHome native OTA protocol
 * (shared/PROTOCOL.md) and the words a person reads for each response code.
 * Used by both ends: the device engine and the uploader.
 */
#ifndef EOTA_PROTOCOL_H
#define EOTA_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Step 1: the five magic bytes the uploader opens with. */
#define EOTA_MAGIC_0 0x6C
#define EOTA_MAGIC_1 0x26
#define EOTA_MAGIC_2 0xF7
#define EOTA_MAGIC_3 0x5C
#define EOTA_MAGIC_4 0x45
#define EOTA_MAGIC_LEN 5

/* Step 2: protocol versions. Version 2 adds one CHUNK_OK per 8192 bytes. */
#define EOTA_VERSION_1 1
#define EOTA_VERSION_2 2
#define EOTA_BLOCK_SIZE 8192u

/* Client feature bits (step 3). */
#define EOTA_FEATURE_COMPRESSION 0x01u
#define EOTA_FEATURE_SHA256_AUTH 0x02u
#define EOTA_FEATURE_EXTENDED 0x04u
#define EOTA_FEATURE_NOISE 0x08u
/* Used with other meanings by unfinished upstream work: never sent, ignored. */
#define EOTA_FEATURE_RESERVED_MASK 0x30u
/* The byte a current stock uploader sends without an encryption key. */
#define EOTA_FEATURES_STOCK_CLIENT 0x07u

/* Server flags (the byte after FEATURE_FLAGS). */
#define EOTA_SERVER_FLAG_COMPRESSION 0x01u
#define EOTA_SERVER_FLAG_PARTITIONS 0x02u
#define EOTA_SERVER_FLAG_NOISE 0x04u
/* Never set: a newer stock uploader would start exchanges eota does not speak. */
#define EOTA_SERVER_FLAG_RESERVED_MASK 0x18u

/* OTA types (step 8, extended protocol only). */
#define EOTA_OTA_TYPE_APP 0x00u
#define EOTA_OTA_TYPE_PARTITION_TABLE 0x01u
#define EOTA_OTA_TYPE_BOOTLOADER 0x02u

/* Authentication sizes, as ASCII hex on the wire. */
#define EOTA_SHA256_HEX_LEN 64
#define EOTA_MD5_HEX_LEN 32
#define EOTA_SHA256_DIGEST_LEN 32
#define EOTA_MD5_DIGEST_LEN 16

/* Stock timeouts (PROTOCOL.md section 5), in milliseconds. */
#define EOTA_DEVICE_HANDSHAKE_TIMEOUT_MS 20000u
#define EOTA_DEVICE_DATA_TIMEOUT_MS 105000u
#define EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS 1000u
#define EOTA_CLIENT_HANDSHAKE_TIMEOUT_MS 20000u
#define EOTA_CLIENT_DATA_TIMEOUT_MS 160000u
#define EOTA_CLIENT_RETRY_DELAY_MS 5000u
#define EOTA_CLIENT_EXTRA_RETRIES 2u
#define EOTA_PROGRESS_INTERVAL_MS 1000u

/* Default ports by platform (PROTOCOL.md section 7). */
#define EOTA_PORT_ESP8266 8266
#define EOTA_PORT_ESP32 3232
#define EOTA_PORT_RP2040 2040
#define EOTA_PORT_BK72XX 8892
#define EOTA_PORT_RTL87XX 8892
#define EOTA_PORT_LN882X 8820
#define EOTA_PORT_HOST 8082

/* Response codes (PROTOCOL.md section 4). A code >= 0x80 is an error. */
enum eota_response {
    EOTA_RESP_OK = 0x00,
    EOTA_RESP_REQUEST_AUTH = 0x01,
    EOTA_RESP_REQUEST_SHA256_AUTH = 0x02,
    EOTA_RESP_HEADER_OK = 0x40,
    EOTA_RESP_AUTH_OK = 0x41,
    EOTA_RESP_UPDATE_PREPARE_OK = 0x42,
    EOTA_RESP_BIN_MD5_OK = 0x43,
    EOTA_RESP_RECEIVE_OK = 0x44,
    EOTA_RESP_UPDATE_END_OK = 0x45,
    EOTA_RESP_SUPPORTS_COMPRESSION = 0x46,
    EOTA_RESP_CHUNK_OK = 0x47,
    EOTA_RESP_FEATURE_FLAGS = 0x48,

    EOTA_RESP_ERROR_MAGIC = 0x80,
    EOTA_RESP_ERROR_UPDATE_PREPARE = 0x81,
    EOTA_RESP_ERROR_AUTH_INVALID = 0x82,
    EOTA_RESP_ERROR_WRITING_FLASH = 0x83,
    EOTA_RESP_ERROR_UPDATE_END = 0x84,
    EOTA_RESP_ERROR_INVALID_BOOTSTRAPPING = 0x85,
    EOTA_RESP_ERROR_WRONG_CURRENT_FLASH_CONFIG = 0x86,
    EOTA_RESP_ERROR_WRONG_NEW_FLASH_CONFIG = 0x87,
    EOTA_RESP_ERROR_ESP8266_NOT_ENOUGH_SPACE = 0x88,
    EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE = 0x89,
    EOTA_RESP_ERROR_NO_UPDATE_PARTITION = 0x8A,
    EOTA_RESP_ERROR_MD5_MISMATCH = 0x8B,
    EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE = 0x8C,
    EOTA_RESP_ERROR_SIGNATURE_INVALID = 0x8D,
    EOTA_RESP_ERROR_UNSUPPORTED_OTA_TYPE = 0x8E,
    EOTA_RESP_ERROR_PARTITION_TABLE_VERIFY = 0x8F,
    EOTA_RESP_ERROR_PARTITION_TABLE_UPDATE = 0x90,
    EOTA_RESP_ERROR_BOOTLOADER_VERIFY = 0x91,
    EOTA_RESP_ERROR_BOOTLOADER_UPDATE = 0x92,
    EOTA_RESP_ERROR_VERSION_DOWNGRADE = 0x93,
    EOTA_RESP_ERROR_ENCRYPTION_REQUIRED = 0x94,
    EOTA_RESP_ERROR_UNKNOWN = 0xFF
};

/* True for the bytes that mean an error (the device closes after one). */
static inline int eota_response_is_error(uint8_t code) { return code >= 0x80; }

/* "ERROR_MD5_MISMATCH" for 0x8B; NULL for a byte that is no known code. */
const char *eota_response_name(uint8_t code);

/* A sentence for a person ("the image arrived corrupted (MD5 mismatch);
 * retry"); for an unknown byte, a generic sentence. Never NULL. A build
 * without EOTA_WITH_DESCRIPTIONS (eota/opt.h) gives the name instead, and
 * "unknown code" for an unknown byte. */
const char *eota_response_describe(uint8_t code);

/* Digests travel as lowercase ASCII hex: write 2*n characters for the n
 * bytes of src into dst (no terminating NUL). */
void eota_hex_encode(char *dst, const uint8_t *src, size_t n);

/* Seed automation states (PROTOCOL.md section 6). */
typedef enum eota_state {
    EOTA_STATE_COMPLETED = 0,
    EOTA_STATE_STARTED = 1,
    EOTA_STATE_IN_PROGRESS = 2,
    EOTA_STATE_ABORT = 3,
    EOTA_STATE_ERROR = 4
} eota_state;

/* "COMPLETED", "STARTED", ...; "UNKNOWN" otherwise. */
const char *eota_state_name(eota_state state);

#ifdef __cplusplus
}
#endif

#endif
