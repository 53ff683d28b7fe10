/*
 * safemode.c: the application side of safe mode (eota/safemode.h): the
 * boot_is_good_after and reboot_timeout timers, confirmation, the request.
 */
#include "eota/safemode.h"

#include <string.h>

void eota_safe_mode_begin(eota_safe_mode *sm, eota_bootstate *bs, const eota_safe_mode_config *cfg,
                          const eota_boot_decision *d, uint32_t now_ms)
{
    memset(sm, 0, sizeof *sm);
    sm->bs = bs;
    if (cfg)
        sm->cfg = *cfg;
    else
        eota_safe_mode_config_defaults(&sm->cfg);
    sm->start_ms = now_ms;
    sm->slot = d ? d->slot : EOTA_BOOT_NO_SLOT;
    sm->safe_mode = d ? d->safe_mode : 0;
    sm->trial = d ? d->trial : 0;
}

int eota_safe_mode_is_active(const eota_safe_mode *sm) { return sm->safe_mode; }

int eota_safe_mode_mark_successful(eota_safe_mode *sm)
{
    if (sm->safe_mode || sm->confirmed)
        return EOTA_OK;
    sm->confirmed = 1;
    sm->last_status = eota_bootstate_confirm(sm->bs);
    if (sm->last_status == EOTA_OK)
        sm->trial = 0;
    return sm->last_status;
}

eota_safe_mode_action eota_safe_mode_poll(eota_safe_mode *sm, uint32_t now_ms)
{
    uint32_t up = now_ms - sm->start_ms;
    if (sm->safe_mode)
        return up >= sm->cfg.reboot_timeout_ms ? EOTA_SAFE_MODE_REBOOT : EOTA_SAFE_MODE_NOTHING;
    if (!sm->confirmed && up >= sm->cfg.boot_is_good_after_ms) {
        (void)eota_safe_mode_mark_successful(sm);
        return EOTA_SAFE_MODE_CONFIRMED;
    }
    return EOTA_SAFE_MODE_NOTHING;
}

long eota_safe_mode_timeout_ms(const eota_safe_mode *sm, uint32_t now_ms)
{
    uint32_t up = now_ms - sm->start_ms, limit;
    if (sm->safe_mode)
        limit = sm->cfg.reboot_timeout_ms;
    else if (!sm->confirmed)
        limit = sm->cfg.boot_is_good_after_ms;
    else
        return -1;
    if (up >= limit)
        return 0;
    return limit - up > 0x7FFFFFFFu ? 0x7FFFFFFFL : (long)(limit - up);
}

int eota_safe_mode_shutdown(eota_safe_mode *sm) { return eota_safe_mode_mark_successful(sm); }

int eota_safe_mode_request(eota_safe_mode *sm)
{
    sm->last_status = eota_bootstate_request_safe_mode(sm->bs);
    return sm->last_status;
}
