/*
 * engine.c: what serves uploads in `eota device`, set up in one place: the
 * storage backend over the slots (with the profile's gzip and the
 * simulate: behaviours), the OTA engine over POSIX seams, the listeners,
 * and the web server sharing the backend. The process holds passwords from
 * here on: it leaves no core dump and cannot be read by ptrace from another
 * process of the same user; the OTA password and the Noise key have one
 * copy, which the engine refers to (d->secrets, reload.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "device.h"

/* A sanitizer build stays dumpable: LeakSanitizer's check at exit needs
 * ptrace, which a non-dumpable process refuses to a non-root user. */
#if defined(__SANITIZE_ADDRESS__)
#define SET_NOT_DUMPABLE() 0
#else
#define SET_NOT_DUMPABLE() prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
#endif

static void no_core_dumps(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0 || SET_NOT_DUMPABLE() != 0)
        fprintf(stderr, "eota device: warning: core dumps could not be turned off\n");
}

/* The engine over sc, referring to the device's one copy of the password
 * pw and of the config's Noise key (reload.c); the config's copies wiped. */
static int start_engine(dev_device *d, eota_server_config *sc, const char *pw)
{
    bool required = false;
    const uint8_t *key = eota_config_noise_key(&d->cfg, &required);
    dev_secrets *s = dev_secrets_fill(d, pw, key);
    if (s) {
        sc->password = s->password;
        sc->noise_key = key ? s->key : NULL;
        sc->noise_required = required;
    }
    if (!s || eota_lobby_init(&d->ota, sc, d->xfer, DEV_XFER_SIZE) != EOTA_OK) {
        fprintf(stderr, "eota device: the password is longer than %d bytes, or the encryption key cannot be used%s\n",
                EOTA_PASSWORD_MAX, EOTA_WITH_NOISE ? "" : " (built without EOTA_WITH_NOISE)");
        return -1;
    }
    dev_secrets_commit(d, s);
    dev_secrets_wipe_config(&d->cfg);
    return 0;
}

int dev_setup_engine(dev_device *d, uint16_t port, const char *pw)
{
    no_core_dumps();
    if (eota_posix_hash_init(&d->hash) != EOTA_OK) {
        fprintf(stderr, "eota device: OpenSSL hash context unavailable\n");
        return -1;
    }
    if (eota_posix_noise_crypto_init(&d->noise) != EOTA_OK) {
        fprintf(stderr, "eota device: OpenSSL X25519/ChaCha20-Poly1305 unavailable\n");
        return -1;
    }
    eota_storage_stack(&d->storage, &d->slots, &d->cfg);
    dev_lobby_init(&d->lobby);

    d->xfer = malloc(DEV_XFER_SIZE);
    if (!d->xfer) {
        fprintf(stderr, "eota device: out of memory\n");
        return -1;
    }
    eota_server_config sc = {
        .transport = &eota_posix_transport,
        .clock = eota_posix_clock(),
        .random = eota_posix_random(),
        .hash = eota_posix_hash_seam(&d->hash),
        .backend = d->storage.backend,
        .events = {dev_native_event, dev_native_log, d},
        .version = d->cfg.ota.version,
        .allow_md5_auth = d->cfg.ota.allow_md5_auth,
        .too_big_code = d->cfg.profile->too_big_code, /* the chip's "not enough space" */
        /* A simulated chip acknowledges a block once it is written, as
         * stock firmware does; the Linux device acknowledges on arrival, so
         * that even a stop-and-wait uploader overlaps the network with the
         * disk. */
        .ack_after_write = d->cfg.profile->ack_after_write,
        .noise_crypto = eota_posix_noise_crypto_seam(&d->noise),
        /* a trickle below the floor no longer holds the device (ota: progress_floor) */
        .progress_floor_bytes = d->cfg.ota.progress_floor_bytes,
        .progress_window_ms = d->cfg.ota.progress_window_ms,
    };
    if (start_engine(d, &sc, pw) != 0)
        return -1;
    if (dev_listen(d, port) != 0)
        return -1;
    eota_web_opts wo = {&d->cfg, &d->slots, &d->storage, d->opt.listen, d->opt.nlisten, (uint16_t)d->opt.web_port,
                        dev_on_event, dev_native_busy, d};
    return eota_web_start(&d->web, &wo) != 0 ? -1 : 0;
}
