/*
 * reload.c: the OTA password in force in `eota device`, and SIGHUP's
 * reload: the config is read again whole (a broken edit is refused and the
 * running settings stay), and the new password, Noise key and log level
 * take effect;
 * and the password an ota.set_auth_password action sets.
 */
#include <string.h>

#include "device.h"
#include "log.h"

/* The password in force: the ota: entry's, or the last one set by an
 * esphome: on_boot: ota.set_auth_password action for one of its ids. */
const char *dev_effective_password(const eota_config *c)
{
    const char *pw = c->ota.password;
    for (size_t i = 0; i < c->on_boot.count; i++) {
        const eota_action *a = &c->on_boot.actions[i];
        if (a->type != EOTA_ACTION_SET_AUTH_PASSWORD)
            continue;
        if (a->id && c->ota.id && !strcmp(a->id, c->ota.id))
            pw = a->password;
    }
    return pw;
}

/* What the device does about Noise, for the log (never the key). */
const char *dev_noise_mode(const eota_config *c)
{
    bool required = false;
    if (!eota_config_noise_key(c, &required))
        return "off (no key)";
    return required ? "required (ota: encryption:)" : "offered (the api: key; plaintext uploaders still served)";
}

int dev_set_password(void *ctx, const char *password)
{
    dev_device *d = ctx;
    return eota_lobby_set_password(&d->ota, password) == EOTA_OK ? 0 : -1;
}

void dev_reload(dev_device *d)
{
    eota_config fresh;
    char err[1024];
    if (eota_config_load(d->opt.config_path, &fresh, err, sizeof err) != 0) {
        LOGE("config", "Reload refused, keeping the running settings: %s", err);
        return;
    }
    const char *pw = dev_effective_password(&fresh);
    if (eota_lobby_set_password(&d->ota, pw) != EOTA_OK) {
        LOGE("config", "Reload refused: the password is longer than %d bytes", EOTA_PASSWORD_MAX);
        eota_config_free(&fresh);
        return;
    }
    bool required = false;
    const uint8_t *key = eota_config_noise_key(&fresh, &required);
    if (eota_lobby_set_noise_key(&d->ota, key, required) != EOTA_OK) {
        LOGE("config", "Reload refused: the encryption key cannot be used");
        eota_config_free(&fresh);
        return;
    }
    LOGI("config", "Reloaded %s: password %s, encryption %s (effective from the next connection)",
         d->opt.config_path, pw && *pw ? "set" : "off", dev_noise_mode(&fresh));
    if (!d->opt.verbose)
        eota_log_set_level((int)fresh.log_level);
    eota_config_free(&fresh);
}
