/*
 * http_request.c: the http_request: block (blocks.h), ESPHome's HTTP
 * client settings, which pull updates use (src/app/pull): timeout,
 * verify_ssl, useragent, follow_redirects, redirect_limit; the ESP-only
 * buffer and watchdog keys are accepted and mean nothing here. ca_file is
 * eota's. Also the ota: entries `platform: http_request` (the flash
 * target of pull updates) and what update.c and this file free.
 */
#include <stddef.h>
#include <stdlib.h>

#include "blocks.h"

static const schema_key http_request_keys[] = {
    KEY("timeout", K_CUSTOM),          KEY("verify_ssl", K_CUSTOM),
    KSTR_TO("useragent", http_request.useragent), KEY("follow_redirects", K_CUSTOM),
    KEY("redirect_limit", K_CUSTOM),   KSTR_TO("ca_file", http_request.ca_file),
    KEY("id", K_STR),                  KEY("buffer_size_rx", K_INT),
    KEY("buffer_size_tx", K_INT),      KEY("watchdog_timeout", K_DURATION),
    KEY("esp8266_disable_ssl_support", K_BOOL),
    KEND};
static const schema_key ota_http_keys[] = {KEY("platform", K_CUSTOM), KEY("id", K_STR), KEND};

/* The yes/no keys, and where they go. */
static const struct {
    const char *key;
    size_t offset;
} http_bools[] = {{"verify_ssl", offsetof(eota_http_request_config, verify_ssl)},
                  {"follow_redirects", offsetof(eota_http_request_config, follow_redirects)}};

int cfg_read_http_request(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_http_request_config *h = &r->cfg->http_request;
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    long long ll;
    if (cfg_open_block(r, n, "http_request", http_request_keys, &h->present))
        return -1;
    for (size_t i = 0; i < sizeof http_bools / sizeof http_bools[0]; i++)
        if ((v = schema_map_get(c, n, http_bools[i].key)) &&
            schema_get_bool(c, v, schema_path_key(p, "http_request", http_bools[i].key),
                            (bool *)((char *)h + http_bools[i].offset)))
            return -1;
    if ((v = schema_map_get(c, n, "timeout")) &&
        schema_get_duration(c, v, "http_request.timeout", false, &h->timeout_ms))
        return -1;
    if ((v = schema_map_get(c, n, "redirect_limit"))) {
        if (schema_get_int(c, v, "http_request.redirect_limit", 0, 50, &ll))
            return -1;
        h->redirect_limit = (uint32_t)ll;
    }
    return 0;
}

int cfg_read_ota_http_request(cfg_reader *r, yaml_node_t *n, const char *path)
{
    if (schema_apply(&r->s, n, path, ota_http_keys))
        return -1;
    r->cfg->ota_http_request = true;
    return 0;
}

void cfg_free_pull(eota_config *cfg)
{
    free(cfg->http_request.useragent);
    free(cfg->http_request.ca_file);
    free(cfg->update.source);
    free(cfg->update.chip_family);
    free(cfg->update.id);
    free(cfg->update.name);
    cfg_free_automation(&cfg->update.on_update_available);
    free(cfg->project_version);
}
