/*
 * config.c: the config reader's entry points (config.h): load a file into
 * an eota_config with its defaults, and free it (SIGHUP loads the whole
 * file again: src/app/device/reload.c). The reading itself is the schema engine (schema.h)
 * driven by one reader per ESPHome block (blocks.h).
 */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "config.h"

/* wifi:, api:, captive_portal: and network: appear in nearly every real
 * ESPHome config; they mean nothing to eota (the host's network is used),
 * so they are accepted and not looked into. Other ESPHome blocks are
 * errors: silently ignoring, say, a `sensor:` would hide a mistake. */
static const schema_key top_keys[] = {
    KEY("esphome", K_CUSTOM),    KEY("host", K_CUSTOM),     KEY("esp32", K_CUSTOM),
    KEY("esp8266", K_CUSTOM),    KEY("rp2040", K_CUSTOM),   KEY("bk72xx", K_CUSTOM),
    KEY("rtl87xx", K_CUSTOM),    KEY("ln882x", K_CUSTOM),   KEY("ota", K_CUSTOM),
    KEY("safe_mode", K_CUSTOM),  KEY("app", K_CUSTOM),      KEY("simulate", K_CUSTOM),
    KEY("logger", K_CUSTOM),     KEY("web_server", K_CUSTOM), KEY("wifi", K_ANY),
    KEY("api", K_CUSTOM),           KEY("captive_portal", K_ANY), KEY("network", K_ANY),
    KEY("mdns", K_CUSTOM),          KEY("http_request", K_CUSTOM), KEY("update", K_CUSTOM),
    KEND};

/* The blocks that may be left out, in the order they are read. */
static const struct {
    const char *key;
    int (*read)(cfg_reader *r, yaml_node_t *n);
} optional_blocks[] = {
    {"api", cfg_read_api},           {"ota", cfg_read_ota},           {"safe_mode", cfg_read_safe_mode},
    {"app", cfg_read_app},           {"simulate", cfg_read_simulate},
    {"logger", cfg_read_logger},     {"web_server", cfg_read_web_server},
    {"mdns", cfg_read_mdns},
    {"http_request", cfg_read_http_request}, {"update", cfg_read_update},
};

int cfg_open_block(cfg_reader *r, yaml_node_t *n, const char *name, const schema_key *keys,
                   bool *present)
{
    *present = true;
    return schema_apply(&r->s, n, name, keys);
}

/* What comes from more than one block. */
static void resolve(eota_config *cfg)
{
    cfg->slot_size = cfg->simulate.slot_size ? cfg->simulate.slot_size : cfg->profile->slot_size;
    if (!cfg->web_server.has_port)
        cfg->web_server.port = cfg->profile->default_web_port;
}

static int read_root(cfg_reader *r, yaml_node_t *root)
{
    schema_ctx *c = &r->s;
    char sh[SCHEMA_SHOW_LEN];
    yaml_node_t *v;
    if (root->type != YAML_MAPPING_NODE)
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                            "the top level must be a mapping of blocks (esphome:, ota:, ...), "
                            "got %s",
                            schema_describe(sh, root, false));
    if (schema_apply(c, root, "", top_keys))
        return -1;
    /* the platform block first: it gives the default port */
    if (cfg_read_platform(r, root))
        return -1;
    r->cfg->ota.port = r->cfg->profile->port;
    if (!(v = schema_map_get(c, root, "esphome")))
        return schema_failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                            "the 'esphome:' block (with 'name:') is missing");
    if (cfg_read_esphome(r, v))
        return -1;
    for (size_t i = 0; i < sizeof optional_blocks / sizeof optional_blocks[0]; i++)
        if ((v = schema_map_get(c, root, optional_blocks[i].key)) && optional_blocks[i].read(r, v))
            return -1;
    if (cfg_check_pending_ids(r))
        return -1;
    resolve(r->cfg);
    return 0;
}

static void set_defaults(eota_config *cfg)
{
    cfg->ota.version = 2;
    cfg->safe_mode.num_attempts = 10;
    cfg->safe_mode.reboot_timeout_ms = 5u * 60u * 1000u;
    cfg->safe_mode.boot_is_good_after_ms = 60u * 1000u;
    cfg->app.stop_timeout_ms = 5000;
    cfg->log_level = EOTA_CONFIG_LEVEL_DEBUG;
    cfg->web_server.port = 80;
    cfg->http_request.timeout_ms = 4500;
    cfg->http_request.verify_ssl = true;
    cfg->http_request.follow_redirects = true;
    cfg->http_request.redirect_limit = 3;
    cfg->update.update_interval_ms = 6u * 3600u * 1000u;
}

int eota_config_load(const char *path, eota_config *out, char *err, size_t errlen)
{
    cfg_reader r;
    yaml_document_t doc;
    memset(&r, 0, sizeof r);
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return EOTA_EINVAL;
    memset(out, 0, sizeof *out);
    r.s.file = path ? path : "(null)";
    r.s.err = err;
    r.s.errlen = errlen;
    r.s.target = out;
    r.s.doc = &doc;
    r.cfg = out;
    if (!path || !*path) {
        schema_failx(&r.s, EOTA_EINVAL, "eota", NULL, NULL, "no configuration file given");
        return r.s.status;
    }
    set_defaults(out);
    if (!(out->path = schema_strdup(&r.s, path)))
        return r.s.status;
    if (schema_load(&r.s, path, &doc, "configuration file") == 0) {
        read_root(&r, yaml_document_get_root_node(&doc));
        schema_doc_delete(&doc);
    }
    schema_release(&r.s);
    free(r.pending);
    if (r.s.status) {
        eota_config_free(out);
        return r.s.status;
    }
    return EOTA_OK;
}

void eota_config_free(eota_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->name);
    free(cfg->friendly_name);
    free(cfg->comment);
    cfg_free_automation(&cfg->on_boot);
    free(cfg->board);
    free(cfg->variant);
    free(cfg->flash_size);
    free(cfg->framework_type);
    free(cfg->framework_version);
    cfg_free_ota(&cfg->ota);
    free(cfg->safe_mode.id);
    cfg_free_automation(&cfg->safe_mode.on_safe_mode);
    for (size_t i = 0; i < cfg->app.argc; i++)
        free(cfg->app.argv[i]);
    free(cfg->app.argv);
    for (size_t i = 0; i < cfg->app.nenv; i++)
        cfg_wipe_free(cfg->app.env[i]); /* may hold tokens */
    free(cfg->app.env);
    free(cfg->web_server.username);
    cfg_wipe_free(cfg->web_server.password);
    explicit_bzero(&cfg->api_key, sizeof cfg->api_key);
    cfg_free_pull(cfg);
    memset(cfg, 0, sizeof *cfg);
}

void cfg_wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}
