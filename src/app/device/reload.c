/*
 * reload.c: the OTA password and Noise key in force in `eota device`, and
 * their one copy in the process: the engine keeps none (eota/server.h), it
 * refers to d->secrets (device.h), filled from the config, whose own copy
 * is then wiped; a slot no longer in force is wiped too. SIGHUP's reload:
 * the config is read again whole (a broken edit is refused and the running
 * settings stay), and the new password, Noise key and log level take
 * effect; and the password an ota.set_auth_password action sets (the
 * engine refers to the action's own text, which stays in the config: the
 * action may run again).
 */
#include <string.h>

#include <openssl/crypto.h>

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

dev_secrets *dev_secrets_fill(dev_device *d, const char *pw, const uint8_t *key)
{
    dev_secrets *s = &d->secrets[!d->secrets_now];
    size_t n = pw ? strlen(pw) : 0;
    if (n > EOTA_PASSWORD_MAX)
        return NULL;
    OPENSSL_cleanse(s, sizeof *s);
    if (n)
        memcpy(s->password, pw, n);
    if (key)
        memcpy(s->key, key, sizeof s->key);
    return s;
}

void dev_secrets_commit(dev_device *d, dev_secrets *s)
{
    int now = s == &d->secrets[1];
    OPENSSL_cleanse(&d->secrets[!now], sizeof d->secrets[!now]);
    d->secrets_now = now;
}

void dev_secrets_wipe_config(eota_config *c)
{
    if (c->ota.password)
        OPENSSL_cleanse(c->ota.password, strlen(c->ota.password));
    OPENSSL_cleanse(c->api_key.key, sizeof c->api_key.key);
    OPENSSL_cleanse(c->ota.encryption_key.key, sizeof c->ota.encryption_key.key);
}

void dev_secrets_forget(dev_device *d) { OPENSSL_cleanse(d->secrets, sizeof d->secrets); }

int dev_set_password(void *ctx, const char *password)
{
    dev_device *d = ctx;
    if (eota_lobby_set_password(&d->ota, password) != EOTA_OK)
        return -1;
    /* the engine refers to the action's text now: the slot's copy goes */
    dev_secrets *s = &d->secrets[d->secrets_now];
    OPENSSL_cleanse(s->password, sizeof s->password);
    return 0;
}

/* The fresh config's password and key into the free slot, and the engine
 * onto it; the old slot wiped. 0, or -1 after saying why (nothing changed). */
static int take_secrets(dev_device *d, const eota_config *fresh)
{
    bool required = false;
    const uint8_t *key = eota_config_noise_key(fresh, &required);
    dev_secrets *s = dev_secrets_fill(d, dev_effective_password(fresh), key);
    if (!s) {
        LOGE("config", "Reload refused: the password is longer than %d bytes", EOTA_PASSWORD_MAX);
        return -1;
    }
    if (eota_lobby_set_noise_key(&d->ota, key ? s->key : NULL, required) != EOTA_OK) {
        LOGE("config", "Reload refused: the encryption key cannot be used");
        OPENSSL_cleanse(s, sizeof *s);
        return -1;
    }
    (void)eota_lobby_set_password(&d->ota, s->password); /* it fits: dev_secrets_fill checked */
    dev_secrets_commit(d, s);
    return 0;
}

void dev_reload(dev_device *d)
{
    eota_config fresh;
    char err[1024];
    if (eota_config_load(d->opt.config_path, &fresh, err, sizeof err) != 0) {
        LOGE("config", "Reload refused, keeping the running settings: %s", err);
        return;
    }
    if (take_secrets(d, &fresh) == 0) {
        const char *pw = d->secrets[d->secrets_now].password;
        LOGI("config",
             "Reloaded %s: password %s, encryption %s (effective from the next connection; a handshake in progress "
             "is refused)",
             d->opt.config_path, *pw ? "set" : "off", dev_noise_mode(&fresh));
        if (!d->opt.verbose)
            eota_log_set_level((int)fresh.log_level);
    }
    eota_config_free(&fresh); /* its secrets wiped */
}
