/*
 * chip_layout.c: the flash map of chip_layout.h as the boot state's
 * configuration, shared by the bootloader and the application.
 */
#include "chip_layout.h"

#include <string.h>

void chip_bootstate_config(eota_bootstate_config *cfg, eota_flash flash)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flash = flash;
    cfg->copy_addr[0] = CHIP_BOOTSTATE_COPY0;
    cfg->copy_addr[1] = CHIP_BOOTSTATE_COPY1;
    cfg->slot[0].addr = CHIP_SLOT_A;
    cfg->slot[0].size = CHIP_SLOT_SIZE;
    cfg->slot[1].addr = CHIP_SLOT_B;
    cfg->slot[1].size = CHIP_SLOT_SIZE;
    cfg->verify = 1;
}

void chip_safe_mode_config(eota_safe_mode_config *c) { eota_safe_mode_config_defaults(c); }

uint32_t chip_slot_entry(int slot) { return CHIP_FLASH_BASE + (slot == 0 ? CHIP_SLOT_A : CHIP_SLOT_B); }
