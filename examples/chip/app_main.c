/*
 * app_main.c: the application image's main loop, linked to run from a slot.
 * OTA runs beside the application's own work: the engine never blocks, so
 * the loop keeps turning during an upload. In safe mode (too many failed
 * boots, or asked for), only the network and OTA run.
 */
#include "chip_board.h"
#include "chip_flash.h"
#include "chip_ota.h"

#ifndef CHIP_OTA_PASSWORD
#define CHIP_OTA_PASSWORD "" /* the ota: password of the device's config */
#endif

static chip_flash flash;
static chip_ota ota;

/* The firmware's own job (sensors, control loops ...). */
static void app_work(void) {}

int main(void)
{
    eota_boot_decision d;

    board_handoff_read(&d);
    chip_flash_init(&flash, board_flash_memory());
    if (chip_ota_start(&ota, chip_flash_seam(&flash), &d, CHIP_OTA_PASSWORD) != EOTA_OK)
        board_start_recovery();
    for (;;) {
        if (!chip_ota_safe_mode(&ota))
            app_work();
        if (chip_ota_poll(&ota) == CHIP_OTA_REBOOT)
            board_reset();
    }
}
