/*
 * boot.c: boots of `eota device` over the boot state (eota/safemode.h), as
 * the bootloader and the start of a firmware would do them: count the
 * attempt, pick the slot (rolling back an image on trial that never got
 * confirmed), decide safe mode; then start the application, or run only the
 * OTA server. Also the safe-mode timers (confirm a good boot, leave safe
 * mode) and reboots that wait for an upload to end.
 */
#include "device.h"
#include "log.h"

uint32_t dev_now32(void) { return (uint32_t)eota_posix_now_ms64(); }

void dev_boot_init(dev_device *d)
{
    d->smcfg.num_attempts = d->cfg.safe_mode.num_attempts;
    d->smcfg.reboot_timeout_ms = d->cfg.safe_mode.reboot_timeout_ms;
    d->smcfg.boot_is_good_after_ms = d->cfg.safe_mode.boot_is_good_after_ms;
    d->smcfg.disabled = d->cfg.safe_mode.disabled;
}

/* What this boot decided, in the log. */
static void log_decision(const dev_device *d)
{
    const eota_boot_decision *dec = &d->dec;
    if (dec->invalidated >= 0)
        LOGW("boot", "Slot %c marked invalid", eota_slot_letter(dec->invalidated));
    if (dec->rolled_back)
        LOGW("boot", "The image on trial was never confirmed: rolled back to slot %c", d->slots.active);
    if (dec->slot >= 0)
        LOGI("boot", "Boot attempt %u: slot %c%s", dec->attempts + 1, d->slots.active,
             dec->trial ? (dec->trial_started ? " (new image, on trial)" : " (on trial)") : "");
    else
        LOGI("boot", "Boot attempt %u: no image", dec->attempts + 1);
}

static void enter_safe_mode(dev_device *d)
{
    LOGW("safe_mode", "Entering safe mode%s: only OTA runs, for %u s",
         d->dec.requested ? " (requested)" : " after failed boots", d->smcfg.reboot_timeout_ms / 1000);
    dev_auto_vars v = {"on_safe_mode", 0, 0, (int)EOTA_STATE_STARTED, 0, d->cfg.name};
    dev_automation_run(&d->autos, &d->cfg.safe_mode.on_safe_mode, &v);
}

void dev_boot(dev_device *d)
{
    char err[512];
    if (eota_slots_reload(&d->slots, err, sizeof err) != 0)
        LOGE("boot", "%s", err);
    int rc = eota_boot(&d->slots.bs, &d->smcfg, &d->dec);
    if (rc != EOTA_OK && d->slots.read_only)
        LOGI("boot", "The state directory is read-only: this boot is not counted");
    else if (rc != EOTA_OK)
        LOGE("boot", "Writing the boot state failed (%s); booting anyway", eota_status_name(rc));
    d->slots.active = eota_slot_letter(d->dec.slot);
    eota_slots_sync(&d->slots);
    eota_safe_mode_begin(&d->sm, &d->slots.bs, &d->smcfg, &d->dec, dev_now32());
    log_decision(d);
    if (d->dec.safe_mode) {
        enter_safe_mode(d);
        return;
    }
    if (d->dec.trial)
        LOGI("boot", "Slot %c runs on trial: confirmed after %u s of running, rolled back if it fails first",
             d->slots.active, d->smcfg.boot_is_good_after_ms / 1000);
    /* esphome: on_boot runs at every normal boot (not in safe mode, where
     * a stock device runs only the network and OTA). */
    dev_auto_vars v = {"on_boot", 0, 0, (int)EOTA_STATE_STARTED, 0, d->cfg.name};
    dev_automation_run(&d->autos, &d->cfg.on_boot, &v);
    dev_app_start(&d->app, &d->slots);
}

static void boot_after_app(void *ctx) { dev_boot(ctx); }

/* The application is stopped without blocking the poll loop (the device
 * answers meanwhile); the boot follows once it has ended. */
void dev_reboot(dev_device *d)
{
    if (dev_app_stopping(&d->app))
        return; /* a reboot is under way already */
    LOGI("device", "Rebooting");
    if (!dev_app_stop_then(&d->app, boot_after_app, d))
        dev_boot(d);
}

void dev_request_safe_mode(dev_device *d)
{
    if (d->smcfg.disabled) {
        LOGW("safe_mode", "SIGUSR1: safe mode is disabled in the config; ignored");
        return;
    }
    LOGW("safe_mode", "SIGUSR1: safe mode requested; rebooting into it");
    eota_safe_mode_request(&d->sm);
    d->reboot_wanted = 1;
}

void dev_boot_poll(dev_device *d)
{
    switch (eota_safe_mode_poll(&d->sm, dev_now32())) {
    case EOTA_SAFE_MODE_CONFIRMED:
        LOGI("boot", "Boot is good: %s", d->dec.trial ? "the image on trial is confirmed" : "boot counter cleared");
        eota_slots_sync(&d->slots); /* its record says so too */
        break;
    case EOTA_SAFE_MODE_REBOOT:
        if (!d->reboot_wanted)
            LOGI("safe_mode", "Safe mode is over: rebooting");
        d->reboot_wanted = 1;
        break;
    default: break;
    }
    /* A reboot waits for the upload in progress: that upload ends in a
     * reboot of its own when it succeeds. */
    if (d->reboot_wanted && !eota_lobby_busy(&d->ota) && !eota_web_busy(d->web) && !eota_pull_busy(d->pull)) {
        d->reboot_wanted = 0;
        dev_reboot(d);
    }
}
