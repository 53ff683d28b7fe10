/*
 * update.c: the update: block (blocks.h), a list as in ESPHome; eota
 * takes one entry, `platform: http_request`: source: (the manifest's URL,
 * http or https), update_interval: (default 6 h), and eota's compare:
 * (semver, the default, or string: ESPHome's "any other version") and
 * chip_family: (default: from the platform block), and ESPHome's
 * on_update_available: automation. As in ESPHome, it needs
 * `ota: - platform: http_request`.
 */
#include <string.h>

#include "blocks.h"

static const char *const compares[] = {"semver", "string", NULL};
static const schema_key update_keys[] = {
    KEY("platform", K_CUSTOM),        KSTR_TO("source", update.source),
    KEY("update_interval", K_CUSTOM), KCHOICE("compare", compares),
    KSTR_TO("chip_family", update.chip_family), KSTR_TO("id", update.id),
    KSTR_TO("name", update.name),     KEY("icon", K_STR),
    KEY("internal", K_BOOL),          KEY("disabled_by_default", K_BOOL),
    KEY("entity_category", K_STR),    KEY("device_class", K_STR),
    KEY("web_server", K_ANY_MAP),     KEY("on_update_available", K_CUSTOM),
    KEND};

static int read_entry(cfg_reader *r, yaml_node_t *e, const char *p)
{
    static const char *const platforms[] = {"http_request", NULL};
    schema_ctx *c = &r->s;
    eota_update_config *u = &r->cfg->update;
    char p2[SCHEMA_PATH_LEN];
    int which;
    if (schema_expect(c, e, p, YAML_MAPPING_NODE, false, "a mapping with 'platform: http_request'"))
        return -1;
    yaml_node_t *v = schema_require(c, e, p, "platform", p2);
    if (!v || schema_get_choice(c, v, p2, platforms, &which) || schema_apply(c, e, p, update_keys))
        return -1;
    if (!schema_require(c, e, p, "source", p2))
        return -1;
    if (strncmp(u->source, "http://", 7) && strncmp(u->source, "https://", 8))
        return FAIL(c, schema_map_get(c, e, "source"), p2, "expected an http:// or https:// URL of a manifest.json");
    if ((v = schema_map_get(c, e, "update_interval")) &&
        schema_get_duration(c, v, schema_path_key(p2, p, "update_interval"), false, &u->update_interval_ms))
        return -1;
    if ((v = schema_map_get(c, e, "compare")) &&
        schema_get_choice(c, v, schema_path_key(p2, p, "compare"), compares, &which) == 0)
        u->compare = (eota_update_compare)which;
    if ((v = schema_map_get(c, e, "on_update_available")) &&
        cfg_read_automation(r, v, schema_path_key(p2, p, "on_update_available"), &u->on_update_available, false))
        return -1;
    if (!r->cfg->ota_http_request)
        return FAIL(c, e, p, "'update: - platform: http_request' needs 'ota: - platform: http_request' (as in ESPHome)");
    u->present = true;
    return c->status ? -1 : 0;
}

int cfg_read_update(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN];
    if (schema_expect(c, n, "update", YAML_SEQUENCE_NODE, false, "a list of entries such as '- platform: http_request'"))
        return -1;
    yaml_node_item_t *items = n->data.sequence.items.start;
    for (yaml_node_item_t *it = items; it < n->data.sequence.items.top; it++) {
        if (r->cfg->update.present)
            return FAIL(c, schema_node(c, *it), schema_path_index(p, "update", (size_t)(it - items)),
                        "eota takes one 'update:' entry");
        if (read_entry(r, schema_node(c, *it), schema_path_index(p, "update", (size_t)(it - items))))
            return -1;
    }
    return 0;
}
