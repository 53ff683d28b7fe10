/*
 * main.c: `eota device`, the entry point: the command line, --show-state,
 * then the device set up step by step (config, state directory, signals,
 * engine), booted and run until a signal stops it, and torn down.
 * device.h tells which file does what.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "device.h"
#include "log.h"

/* --show-state: the boot state of --state-dir, read only. */
static int show_state(const dev_opts *o)
{
    char err[1024];
    if (!o->state_dir) {
        fprintf(stderr, "eota device: --show-state needs --state-dir DIR\n");
        return 2;
    }
    if (eota_slots_show(o->state_dir, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "eota device: %s\n", err);
        return 1;
    }
    return 0;
}

/* Where the slots live without --state-dir: /var/lib/eota/NAME as root,
 * else $XDG_STATE_HOME/eota/NAME or ~/.local/state/eota/NAME. 0, or -1
 * when the path does not fit. */
static int default_state_dir(const char *name, char *buf, size_t len)
{
    if (geteuid() == 0)
        return snprintf(buf, len, "/var/lib/eota/%s", name) < (int)len ? 0 : -1;
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && *xdg)
        return snprintf(buf, len, "%s/eota/%s", xdg, name) < (int)len ? 0 : -1;
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/tmp";
    }
    return snprintf(buf, len, "%s/.local/state/eota/%s", home, name) < (int)len ? 0 : -1;
}

/* The config; 0, or 2 after saying why. */
static int load_config(dev_device *d)
{
    char err[1024];
    if (!d->opt.config_path) {
        fprintf(stderr, "eota device: --config FILE.yaml is required (see --help)\n");
        return 2;
    }
    if (eota_config_load(d->opt.config_path, &d->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "eota device: %s\n", err);
        return 2;
    }
    eota_log_set_level(d->opt.verbose ? 5 : d->opt.quiet ? 2 : (int)d->cfg.log_level);
    return 0;
}

/* The state directory (--state-dir or the default), opened. 0 or -1. */
static int open_state(dev_device *d)
{
    char err[1024];
    if (d->opt.state_dir)
        snprintf(d->state_dir, sizeof d->state_dir, "%s", d->opt.state_dir);
    else if (default_state_dir(d->cfg.name, d->state_dir, sizeof d->state_dir) != 0) {
        fprintf(stderr, "eota device: state directory path too long\n");
        return -1;
    }
    if (eota_slots_open(&d->slots, d->state_dir, err, sizeof err) != 0) {
        fprintf(stderr, "eota device: %s\n", err);
        return -1;
    }
    return 0;
}

/* Who this device is and how it serves OTA. */
static void log_banner(const dev_device *d, uint16_t port, const char *pw)
{
    const eota_config *c = &d->cfg;
    LOGI("device", "eota device %s: '%s', platform %s, state in %s", EOTA_CLI_VERSION, c->name,
         c->profile->platform, d->state_dir);
    LOGI("device", "OTA: port %u, protocol version %u, password %s%s, gzip %s, slot size %u bytes", port,
         c->ota.version, pw && *pw ? "set" : "off", c->ota.allow_md5_auth ? " (MD5 allowed)" : "",
         c->gzip ? "accepted" : "not accepted", c->slot_size);
    LOGI("device", "OTA encryption (Noise): %s", dev_noise_mode(c));
    if (c->ota.allow_md5_auth)
        LOGW("device", "allow_md5_auth is on: uploaders without SHA-256 may authenticate with legacy MD5");
    if (c->simulate.present && (c->simulate.flash_write_speed || c->simulate.fail_at))
        LOGW("device", "simulate: flash speed %llu B/s, injected failure %d (code 0x%02X)",
             (unsigned long long)c->simulate.flash_write_speed, (int)c->simulate.fail_at, c->simulate.fail_code);
}

/* update: on_update_available (pull updates saw a newer version). */
static void pull_update_available(void *ctx, const char *version)
{
    dev_device *d = ctx;
    dev_auto_vars v = {"on_update_available", 0, 0, 0, 0, d->cfg.name};
    (void)version;
    dev_automation_run(&d->autos, &d->cfg.update.on_update_available, &v);
}

/* Everything before the first boot. 0, or the exit code. */
static int set_up(dev_device *d)
{
    int rc = load_config(d);
    if (rc != 0)
        return rc;
    if (open_state(d) != 0 || dev_signals_open(d) != 0)
        return 1;
    uint16_t port = d->opt.port ? (uint16_t)d->opt.port : d->cfg.ota.port;
    const char *pw = dev_effective_password(&d->cfg);
    log_banner(d, port, pw);
    dev_app_init(&d->app, &d->cfg);
    dev_automations_init(&d->autos, d->cfg.name);
    /* mDNS before the listeners: the device's sockets are all open once
     * it says it listens; the TXT records follow the boot in the loop */
    dev_mdns_start(d, port);
    if (dev_setup_engine(d, port, pw) != 0)
        return 1;
    eota_pull_opts po = {&d->cfg, &d->slots, &d->storage, dev_on_event, dev_push_busy, d, pull_update_available};
    if (eota_pull_start(&d->pull, &po) != 0)
        return 1;
    d->autos.flash = eota_pull_flash_action;
    d->autos.flash_ctx = d->pull;
    d->autos.ota_id = d->cfg.ota.id;
    d->autos.set_password = dev_set_password;
    d->autos.set_password_ctx = d;
    dev_boot_init(d);
    return 0;
}

static void tear_down(dev_device *d)
{
    dev_mdns_stop(d); /* when the loop did not (a failed start) */
    eota_pull_stop(d->pull); /* aborts a pull download in progress */
    d->pull = NULL;
    eota_web_stop(d->web); /* aborts a web upload in progress */
    d->web = NULL;
    for (int i = 0; i < d->nlisten; i++)
        close(d->listen_fd[i]);
    if (d->sig_fd >= 0)
        close(d->sig_fd);
    for (int i = 0; i < DEV_CONNS; i++)
        if (d->conns[i].fd >= 0)
            close(d->conns[i].fd);
    eota_posix_hash_free(&d->hash); /* a no-op on the zeroed struct */
    eota_sig_stack_free(&d->storage.sig);
    eota_posix_noise_crypto_free(&d->noise);
    free(d->xfer);
    eota_slots_close(&d->slots);
    eota_config_free(&d->cfg);
    dev_secrets_forget(d);
    free(d);
}

/* Set up, boot, serve until a signal; the exit code. */
static int run_device(dev_device *d)
{
    int rc = set_up(d);
    if (rc != 0)
        return rc;
    dev_boot(d);
    rc = dev_loop_run(d);
    LOGI("device", "Stopped");
    return rc;
}

int eota_cmd_device(int argc, char **argv)
{
    dev_device *d = calloc(1, sizeof *d);
    if (!d) {
        fprintf(stderr, "eota device: out of memory\n");
        return 1;
    }
    for (int i = 0; i < DEV_CONNS; i++)
        d->conns[i].fd = -1;
    d->slots.ff.fd = -1;
    d->sig_fd = -1;
    int rc = dev_options_parse(&d->opt, argc, argv);
    if (rc < 0)
        rc = d->opt.show_state ? show_state(&d->opt) : run_device(d);
    tear_down(d);
    return rc;
}
