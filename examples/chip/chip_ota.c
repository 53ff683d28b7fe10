/*
 * chip_ota.c: the application's OTA side (chip_ota.h): the engine over the
 * board's seams and the flash slot store, and the safe-mode timers.
 */
#include "chip_ota.h"

#include <string.h>

#include "chip_board.h"
#include "chip_layout.h"

/* The storage backend: the flash slot store of the core over the boot
 * state; it writes the slot that is not running and installs the image
 * (NEW: the next boot runs it on trial) once its CRC reads back right. */
static int chip_ota_store(chip_ota *o, eota_server_config *cfg)
{
    int st = eota_flash_backend_init(&o->store, &o->bs, o->stage, sizeof o->stage);
    if (st == EOTA_OK)
        cfg->backend = eota_flash_backend_seam(&o->store);
    return st;
}

int chip_ota_start(chip_ota *o, eota_flash flash, const eota_boot_decision *d, const char *password)
{
    eota_bootstate_config bc;
    eota_safe_mode_config smc;
    eota_server_config cfg;

    chip_bootstate_config(&bc, flash);
    int st = eota_bootstate_open(&o->bs, &bc);
    if (st != EOTA_OK)
        return st;
    o->clock = board_clock();
    chip_safe_mode_config(&smc);
    eota_safe_mode_begin(&o->sm, &o->bs, &smc, d, o->clock.now_ms(o->clock.ctx));

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = board_transport();
    cfg.clock = o->clock;
    cfg.random = board_random();
    cfg.hash = board_hash();
    cfg.events = board_events();
    cfg.password = password;
    st = chip_ota_store(o, &cfg);
    if (st != EOTA_OK)
        return st;
    return eota_server_init(&o->srv, &cfg, o->xfer, sizeof o->xfer);
}

chip_ota_action chip_ota_poll(chip_ota *o)
{
    void *conn = board_accept();
    if (conn != NULL)
        (void)eota_server_accept(&o->srv, conn); /* busy: the engine closes it */
    if (eota_server_poll(&o->srv) == EOTA_SERVER_REBOOT) {
        /* An orderly restart: this boot was good enough to take an update. */
        (void)eota_safe_mode_shutdown(&o->sm);
        return CHIP_OTA_REBOOT;
    }
    if (eota_safe_mode_poll(&o->sm, o->clock.now_ms(o->clock.ctx)) == EOTA_SAFE_MODE_REBOOT)
        return CHIP_OTA_REBOOT;
    return CHIP_OTA_RUN;
}

int chip_ota_safe_mode(const chip_ota *o) { return eota_safe_mode_is_active(&o->sm); }
