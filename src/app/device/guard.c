/*
 * guard.c: the native engine's events and log lines on their way to
 * events.c, through the lobby's backoff (lobby.h): a wrong password counts
 * against the address it came from, and only the first of a burst is
 * logged as an error and fires on_error; the later ones are debug lines.
 * A wrong Noise key (the handshake's MAC failure) counts the same way.
 * A started upload forgets its address's failures.
 */
#include "device.h"
#include "eota/noise.h"
#include "eota/protocol.h"
#include "log.h"

void dev_native_event(void *ctx, const eota_event *ev)
{
    dev_device *d = ctx;
    dev_lobby *l = &d->lobby;
    if (ev->state == EOTA_STATE_STARTED)
        backoff_succeeded(&l->guesses, dev_lobby_key(d));
    if (ev->state == EOTA_STATE_ERROR && ev->code == EOTA_RESP_ERROR_AUTH_INVALID) {
        uint32_t delay = 0;
        uint64_t t = eota_posix_now_ms64();
        if (!backoff_failed(&l->guesses, dev_lobby_key(d), t, &delay)) {
            LOGD(DEV_TAG, "Wrong password again from %s (%u in this burst); its next attempt waits %u ms",
                 dev_lobby_peer(d), backoff_fails(&l->guesses, dev_lobby_key(d), t), delay);
            return;
        }
        LOGW(DEV_TAG, "Wrong password from %s: repeated failures from this address are slowed down and "
                      "logged once", dev_lobby_peer(d));
    }
    dev_on_event(ctx, ev);
}

/* The session just failed its Noise handshake on a wrong key: 1 when the
 * line is to be said (the first of its address's burst), 0 when not. */
static int wrong_key(dev_device *d)
{
    dev_lobby *l = &d->lobby;
    uint32_t delay = 0;
    uint64_t t = eota_posix_now_ms64();
    if (backoff_failed(&l->guesses, dev_lobby_key(d), t, &delay))
        return 1;
    LOGD(DEV_TAG, "Wrong encryption key again from %s (%u in this burst); its next attempt waits %u ms",
         dev_lobby_peer(d), backoff_fails(&l->guesses, dev_lobby_key(d), t), delay);
    return 0;
}

static int is_wrong_key(dev_device *d, eota_log_level level, uint32_t arg)
{
#if EOTA_WITH_NOISE
    eota_server_info info;
    if (level != EOTA_LOG_WARN || arg != EOTA_NOISE_FAIL_MAC)
        return 0;
    eota_server_get_info(eota_lobby_place(&d->ota, eota_lobby_current(&d->ota)), &info);
    return info.noise_failure == EOTA_NOISE_FAIL_MAC;
#else
    (void)d, (void)level, (void)arg;
    return 0;
#endif
}

void dev_native_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg)
{
    dev_device *d = ctx;
    dev_lobby *l = &d->lobby;
    if (is_wrong_key(d, level, arg) && !wrong_key(d))
        return;
    /* a handshake the lobby cut is no upload cancelled; a wrong password
     * inside a burst was said at its start */
    if (l->cutting || (level == EOTA_LOG_ERROR && arg == EOTA_RESP_ERROR_AUTH_INVALID &&
                       backoff_fails(&l->guesses, dev_lobby_key(d), eota_posix_now_ms64()) > 0))
        level = EOTA_LOG_DEBUG;
    dev_on_log(ctx, level, msg, arg);
}
