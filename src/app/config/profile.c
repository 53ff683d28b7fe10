/*
 * profile.c: the table of platform profiles (profile.h), one row per
 * platform block the config accepts.
 */
#include "profile.h"

#include <string.h>

#include "eota/protocol.h"

/*
 * Slot sizes are the largest image the real chip takes with its most
 * common layout; a config can lower or raise it with simulate: slot_size:.
 *  - host: a Linux program; 256 MiB fits any real one yet still refuses a
 *    runaway upload. No gzip by default: a stock uploader compresses every
 *    image at level 9 when offered, incompressible ones too (2.1 s of its
 *    CPU for 64 MiB), and on a LAN that costs more than it saves; `host:
 *    gzip: true` offers it (zlib inflates while receiving). No chip-specific
 *    code exists, so "too big" is 81 (prepare failed). It acknowledges a
 *    block on arrival, so that even a stop-and-wait uploader overlaps the
 *    network with the disk. ESPHome's web_server listens on 80; a Linux
 *    host would need root for that, so host: defaults to 8080.
 *  - esp32: ESPHome's default partition table on 4 MB flash has two OTA
 *    app partitions of 0x1C0000 bytes. The IDF backend takes no gzip; a
 *    size refused by esp_ota_begin is answered with 89.
 *  - esp8266: a 4 MB board (d1_mini layout) has 1044464 (0xFEFF0) bytes of
 *    sketch space. Arduino's Updater stores gzip images (inflated at
 *    boot); too big is 88.
 *  - rp2040: arduino-pico stages the image in the filesystem; 1 MiB is
 *    what a 2 MB Pico with the usual 1 MB filesystem takes. Too big: 8C.
 *  - bk72xx, rtl87xx, ln882x (LibreTiny): ESPHome's LibreTiny backend
 *    answers 81 whenever Update.begin fails, size included. Slots are the
 *    app partitions of LibreTiny's commonest layouts: BK7231N 0x119000,
 *    RTL8710B 2 MB "468k" 0x75000, LN882H 0x12C000.
 * The chips acknowledge a block once it is written and serve the web on 80.
 */
static const eota_profile profiles[] = {
    /* platform  port  slot_size  gzip  too_big_code  ack_after_write  web port */
    {"host", EOTA_PORT_HOST, 256u * 1024u * 1024u, false, EOTA_RESP_ERROR_UPDATE_PREPARE,
     false, 8080},
    {"esp32", EOTA_PORT_ESP32, 0x1C0000u, false, EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE,
     true, 80},
    {"esp8266", EOTA_PORT_ESP8266, 1044464u, true, EOTA_RESP_ERROR_ESP8266_NOT_ENOUGH_SPACE,
     true, 80},
    {"rp2040", EOTA_PORT_RP2040, 1024u * 1024u, false, EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE,
     true, 80},
    {"bk72xx", EOTA_PORT_BK72XX, 0x119000u, false, EOTA_RESP_ERROR_UPDATE_PREPARE, true, 80},
    {"rtl87xx", EOTA_PORT_RTL87XX, 0x75000u, false, EOTA_RESP_ERROR_UPDATE_PREPARE, true, 80},
    {"ln882x", EOTA_PORT_LN882X, 0x12C000u, false, EOTA_RESP_ERROR_UPDATE_PREPARE, true, 80},
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

const eota_profile *eota_profile_find(const char *platform)
{
    if (!platform)
        return NULL;
    for (size_t i = 0; i < NPROFILES; i++)
        if (strcmp(profiles[i].platform, platform) == 0)
            return &profiles[i];
    return NULL;
}

const eota_profile *eota_profile_table(size_t *count)
{
    if (count)
        *count = NPROFILES;
    return profiles;
}
