/*
 * events.c: what `eota device` does with the engine's events (native and
 * web uploads alike): a log line per state, the automations of the ota:
 * block, the web page's "last update". Also the engine's own log lines and
 * web.c's question whether a native upload runs.
 */
#include "device.h"
#include "log.h"

static void log_event(dev_device *d, const eota_event *ev)
{
    switch (ev->state) {
    case EOTA_STATE_STARTED:
        d->upload_started_ms = eota_posix_now_ms64();
        LOGI(DEV_TAG, "Starting update of %u bytes", ev->total);
        break;
    case EOTA_STATE_IN_PROGRESS: LOGD(DEV_TAG, "Progress: %.1f%%", eota_event_percent(ev)); break;
    case EOTA_STATE_COMPLETED: {
        double secs = (double)(eota_posix_now_ms64() - d->upload_started_ms) / 1000.0;
        LOGI(DEV_TAG, "Update complete: %u bytes in %.1f s", ev->total, secs);
        break;
    }
    case EOTA_STATE_ABORT: LOGW(DEV_TAG, "Update aborted"); break;
    case EOTA_STATE_ERROR: {
        const char *name = eota_response_name(ev->code);
        LOGE(DEV_TAG, "Update failed: %s (0x%02X): %s%s%s", name ? name : "?", ev->code,
             eota_response_describe(ev->code), ev->detail ? "; " : "", ev->detail ? ev->detail : "");
        break;
    }
    }
}

void dev_on_event(void *ctx, const eota_event *ev)
{
    dev_device *d = ctx;
    log_event(d, ev);
    dev_automations_event(&d->autos, &d->cfg.ota, ev);
    eota_web_note_event(d->web, ev); /* the page's "last update" */
    dev_mdns_note_event(d, ev);      /* and the TXT records' */
}

void dev_on_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg)
{
    (void)ctx;
    if (arg)
        eota_log((int)level, DEV_TAG, "%s (%u)", msg, arg);
    else
        eota_log((int)level, DEV_TAG, "%s", msg);
}

/* web.c: web uploads get 409 while a native upload holds the backend */
int dev_native_busy(void *ctx)
{
    dev_device *d = ctx;
    return eota_lobby_busy(&d->ota) || eota_pull_busy(d->pull); /* a pull download holds the backend too */
}

int dev_push_busy(void *ctx)
{
    dev_device *d = ctx;
    return eota_lobby_busy(&d->ota) || eota_web_busy(d->web);
}
