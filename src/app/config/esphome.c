/*
 * esphome.c: the esphome: block (blocks.h): the device's name (a host
 * name), the names and texts eota keeps, the keys it accepts and ignores,
 * and on_boot: automations.
 */
#include <string.h>

#include "blocks.h"

static const schema_key project_keys[] = {KEY("name", K_STR), KSTR_TO("version", project_version), KEND};
static const schema_key esphome_keys[] = {
    KEY("name", K_CUSTOM),
    KSTR_TO("friendly_name", friendly_name),
    KSTR_TO("comment", comment),
    KEY("area", K_ANY),
    KEY("min_version", K_STR),
    KEY("name_add_mac_suffix", K_BOOL),
    KSUB("project", project_keys),
    KEY("build_path", K_STR),
    KEY("platformio_options", K_ANY_MAP),
    KEY("on_boot", K_CUSTOM),
    KEND};

/* ESPHome names become host names. */
static bool host_name_ok(const char *name)
{
    if (strlen(name) > 63)
        return false;
    for (const char *s = name; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

int cfg_read_esphome(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_apply(c, n, "esphome", esphome_keys))
        return -1;
    if (schema_is_null(n))
        return FAIL(c, n, "esphome", "expected a mapping with 'name:', got nothing");
    yaml_node_t *v = schema_require(c, n, "esphome", "name", p);
    if (!v || schema_get_str(c, v, p, 0, &r->cfg->name))
        return -1;
    if (!host_name_ok(r->cfg->name))
        return FAIL(c, v, p,
                    "expected a name of at most 63 lowercase letters, digits, '-' and '_', "
                    "got %s",
                    schema_show(sh, r->cfg->name, false));
    if ((v = schema_map_get(c, n, "on_boot")) &&
        cfg_read_automation(r, v, schema_path_key(p, "esphome", "on_boot"), &r->cfg->on_boot,
                            true))
        return -1;
    return 0;
}
