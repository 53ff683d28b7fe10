/*
 * setup.c: the firmware, the config, the transport and the jobs of a run
 * (setup.h).
 */
#include "upload/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "upload/util.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* --ota-platform, else web_server for a config whose only ota: entry is
 * platform: web_server, else native OTA. */
static const up_transport *choose_transport(const up_run *r)
{
    int p = r->opt.platform;
    if (p == UP_PLATFORM_AUTO && r->have_cfg && !r->cfg.ota.present && r->cfg.ota_web_server)
        p = UP_PLATFORM_WEB;
    return p == UP_PLATFORM_WEB ? &up_transport_web : &up_transport_native;
}

/* ESPHome's own build output beside the config, as `esphome upload`
 * finds it. */
static int guess_firmware(up_run *r)
{
    char guess[4096];
    const char *path = r->config_path;
    const char *slash = strrchr(path, '/');
    const char *name = r->cfg.name ? r->cfg.name : "";
    snprintf(guess, sizeof guess, "%.*s/.esphome/build/%s/.pioenvs/%s/firmware.bin", slash ? (int)(slash - path) : 1,
             slash ? path : ".", name, name);
    if (r->cfg.name && access(guess, R_OK) == 0) {
        r->firmware_owned = up_xstrdup(guess);
        r->firmware = r->firmware_owned;
        return 0;
    }
    fprintf(stderr, "eota upload: no firmware given: use --file FIRMWARE with a config (looked for %s)\n", guess);
    return -1;
}

int up_setup_source(up_run *r)
{
    const char *pos = r->opt.positional;
    r->firmware = r->opt.file;
    if (!ends_with(pos, ".yaml") && !ends_with(pos, ".yml")) {
        r->tp = choose_transport(r);
        if (r->firmware) {
            fprintf(stderr, "eota upload: --file goes with a CONFIG.yaml; '%s' is taken as the firmware\n", pos);
            return -1;
        }
        r->firmware = pos;
        return 0;
    }
    char err[1024];
    r->config_path = pos;
    if (eota_config_load(pos, &r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "eota upload: %s\n", err);
        return -1;
    }
    r->have_cfg = 1;
    r->tp = choose_transport(r);
    if (r->tp->check_config(r) != 0)
        return -1;
    return r->firmware ? 0 : guess_firmware(r);
}

int up_setup_jobs(up_run *r)
{
    char err[1024];
    up_list *devices = &r->opt.devices;
    if (r->opt.devices_from && up_devices_read(r->opt.devices_from, devices, err, sizeof err) != 0) {
        fprintf(stderr, "eota upload: %s\n", err);
        return 2;
    }
    if (devices->n == 0 && r->have_cfg && r->cfg.name) {
        char local[512];
        snprintf(local, sizeof local, "%s.local", r->cfg.name);
        up_list_add(devices, local);
    }
    if (devices->n == 0)
        return up_usage_error("no device given (--device HOST[:PORT] or --devices-from FILE)");
    r->jobs = up_xcalloc(devices->n, sizeof *r->jobs);
    for (size_t i = 0; i < devices->n; i++) {
        up_job *j = &r->jobs[r->njobs++];
        j->spec = up_xstrdup(devices->v[i]);
        if (up_spec_parse(j->spec, r->default_port, &j->targets, &j->ntargets, err, sizeof err) != 0)
            return up_usage_error("%s", err);
    }
    return -1;
}
