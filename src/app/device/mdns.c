/*
 * mdns.c: `eota device` on mDNS (src/app/mdns): NAME.local and the
 * _eota._tcp service whose TXT records say what the device runs and how
 * its last update went (and, with pull updates, its last check); _http._tcp
 * with the web server. The TXT records
 * are rebuilt after every turn of the loop and announced when they change.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "log.h"

/* The first 12 hex digits of the SHA-256 of the running image (the
 * size the boot state recorded), one hash per slot (a rollback finds its
 * slot's hash kept), worked a slice at a time on the loop's idle turns
 * (dev_mdns_refresh); "pending" until done. */
static const char *running_sha(dev_device *d, const eota_slot_info *si, int slot)
{
    char path[4200];
    dev_image_sha_want(&d->mdns_sha[slot], si->image_seq + 1u,
                       eota_slots_path(&d->slots, eota_slot_letter(slot), path, sizeof path), si->size);
    return dev_image_sha_hex(&d->mdns_sha[slot]);
}

/* The slot whose hash is under way, or -1. */
static int hashing_slot(const dev_device *d)
{
    for (int i = 0; i < 2; i++)
        if (dev_image_sha_busy(&d->mdns_sha[i]))
            return i;
    return -1;
}

/* slot, state, sha256 of the image this boot runs. */
static void add_image(dev_device *d, eota_mdns_txt *t)
{
    int slot = d->slots.active ? d->slots.active - 'a' : -1; /* before the boot: the slot to boot */
    eota_slot_info si;
    if (slot < 0 || slot > 1) {
        eota_mdns_txt_add(t, "slot", "none");
        eota_mdns_txt_add(t, "state", "none");
        return;
    }
    eota_slot_state st = eota_bootstate_slot(&d->slots.bs, slot, &si);
    eota_mdns_txt_add(t, "slot", "%c", eota_slot_letter(slot));
    eota_mdns_txt_add(t, "state", "%s", st == EOTA_SLOT_VALID ? "confirmed" : st == EOTA_SLOT_TRIAL ? "trial" : "new");
    eota_mdns_txt_add(t, "sha256", "%s", running_sha(d, &si, slot));
}

static void build_txt(dev_device *d, eota_mdns_txt *t)
{
    const eota_config *c = &d->cfg;
    memset(t, 0, sizeof *t);
    eota_mdns_txt_add(t, "name", "%s", c->name);
    eota_mdns_txt_add(t, "friendly_name", "%s", c->friendly_name ? c->friendly_name : c->name);
    eota_mdns_txt_add(t, "platform", "%s", c->profile->platform);
    eota_mdns_txt_add(t, "board", "%s", c->board ? c->board : "");
    eota_mdns_txt_add(t, "eota_version", "%s", EOTA_CLI_VERSION);
    add_image(d, t);
    eota_pull_status_txt(eota_pull_get_status(d->pull), t); /* with pull updates only */
    eota_mdns_txt_add(t, "safe_mode", "%s", d->dec.safe_mode ? "yes" : "no");
    if (d->dec.rolled_back) {
        eota_mdns_txt_add(t, "last_update", "rolled_back");
        eota_mdns_txt_add(t, "last_update_why", "the image on trial was never confirmed");
    } else {
        eota_mdns_txt_add(t, "last_update", "%s", d->mdns_last[0] ? d->mdns_last : "none");
        if (d->mdns_last_why[0])
            eota_mdns_txt_add(t, "last_update_why", "%s", d->mdns_last_why);
    }
    bool required = false;
    const uint8_t *key = eota_config_noise_key(c, &required);
    eota_mdns_txt_add(t, "encryption", "%s", !key ? "none" : required ? "required" : "offered");
}

void dev_mdns_note_event(dev_device *d, const eota_event *ev)
{
    if (ev->state == EOTA_STATE_COMPLETED) {
        snprintf(d->mdns_last, sizeof d->mdns_last, "installed");
        d->mdns_last_why[0] = 0;
    } else if (ev->state == EOTA_STATE_ERROR || ev->state == EOTA_STATE_ABORT) {
        const char *name = ev->state == EOTA_STATE_ABORT ? "aborted" : eota_response_name(ev->code);
        snprintf(d->mdns_last, sizeof d->mdns_last, "failed");
        snprintf(d->mdns_last_why, sizeof d->mdns_last_why, "%s", name ? name : "error");
    }
}

void dev_mdns_start(dev_device *d, uint16_t port)
{
    if (d->cfg.mdns.disabled || d->opt.mdns == 3) {
        LOGI("mdns", "mDNS is off (%s)", d->cfg.mdns.disabled ? "mdns: disabled: true" : "--mdns off");
        return;
    }
    eota_mdns_txt t;
    build_txt(d, &t);
    int h = hashing_slot(d);
    if (h >= 0) { /* the first announcement says what runs: hashed at once */
        dev_image_sha_step(&d->mdns_sha[h], SIZE_MAX);
        build_txt(d, &t);
    }
    /* the web server runs for either block (web/server.c) */
    int has_web = d->cfg.web_server.present || d->cfg.ota_web_server;
    uint16_t web = !has_web ? 0 : d->opt.web_port ? (uint16_t)d->opt.web_port : d->cfg.web_server.port;
    eota_mdns_config mc = {d->cfg.name, port, web, (eota_mdns_backend)d->opt.mdns, 0};
    d->mdns = eota_mdns_start(&mc, &t);
}

/* The slice of the image's hash one idle turn takes: a few milliseconds. */
#define SHA_SLICE_BYTES (4u << 20)

/* The TXT record waits for the running image's hash: never "pending" on
 * the network, only a few idle turns late. */
void dev_mdns_refresh(dev_device *d)
{
    if (!d->mdns)
        return;
    int h = hashing_slot(d);
    if (h >= 0 && !eota_lobby_uploading(&d->ota))
        dev_image_sha_step(&d->mdns_sha[h], SHA_SLICE_BYTES);
    eota_mdns_txt t;
    build_txt(d, &t); /* starts the hash of an image the boot state now names */
    if (hashing_slot(d) < 0)
        eota_mdns_set_txt(d->mdns, &t);
}

long dev_mdns_timeout_ms(const dev_device *d)
{
    return d->mdns && hashing_slot(d) >= 0 && !eota_lobby_uploading(&d->ota) ? 0 : -1;
}

void dev_mdns_stop(dev_device *d)
{
    eota_mdns_stop(d->mdns);
    d->mdns = NULL;
    for (int i = 0; i < 2; i++)
        dev_image_sha_free(&d->mdns_sha[i]);
}
