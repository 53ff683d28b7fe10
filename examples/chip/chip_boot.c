/*
 * chip_boot.c: the bootloader's slot selection (chip_boot.h).
 */
#include "chip_boot.h"

#include <string.h>

#include "chip_layout.h"

int chip_boot_select(eota_flash flash, chip_boot_choice *out)
{
    eota_bootstate_config cfg;
    eota_safe_mode_config sm;
    eota_bootstate bs;

    memset(out, 0, sizeof *out);
    out->d.slot = EOTA_BOOT_NO_SLOT;
    out->d.invalidated = -1;
    chip_bootstate_config(&cfg, flash);
    chip_safe_mode_config(&sm);
    int st = eota_bootstate_open(&bs, &cfg);
    if (st != EOTA_OK)
        return st; /* unreadable: recovery, never a guess */
    /* Counts this boot before anything else, so that a crash from here on
     * is counted too; checks the image's CRC (cfg.verify) before choosing it. */
    st = eota_boot(&bs, &sm, &out->d);
    if (out->d.slot != EOTA_BOOT_NO_SLOT)
        out->entry = chip_slot_entry(out->d.slot);
    return st;
}
